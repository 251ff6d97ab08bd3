"""The shared data: a batch of 256 inputs with 64 features, and the weights of a two-layer MLP
(64 -> hidden -> 10), named and laid out as torch.nn.Linear stores them (weight is
(out_features, in_features)) and drawn as nn.Linear initializes them."""

import numpy as np

BATCH, FEATURES, OUTPUTS = 256, 64, 10


def make_inputs(size):
    rng = np.random.default_rng(seed=0)
    inputs = {"x": rng.standard_normal((BATCH, FEATURES)).astype(np.float32)}
    # torch.nn.Linear's default initialization: uniform in +-1/sqrt(in_features).
    for layer, fan_in, fan_out in (("fc1", FEATURES, size), ("fc2", size, OUTPUTS)):
        bound = 1 / np.sqrt(fan_in)
        weight = rng.uniform(-bound, bound, (fan_out, fan_in))
        inputs[f"{layer}.weight"] = weight.astype(np.float32)
        inputs[f"{layer}.bias"] = rng.uniform(-bound, bound, fan_out).astype(np.float32)
    return inputs
