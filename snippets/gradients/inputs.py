"""The shared data: the starting weights of a three-layer MLP (784 -> 512 -> 512 -> 10), named and
laid out as torch.nn.Linear stores them (weight is (out_features, in_features)), then a batch of
inputs and integer class labels. The weights are drawn first, so they are the same at every size."""

import numpy as np

LAYERS = (("fc1", 784, 512), ("fc2", 512, 512), ("fc3", 512, 10))


def make_inputs(size):
    rng = np.random.default_rng(seed=0)
    inputs = {}
    # torch.nn.Linear's default initialization: uniform in +-1/sqrt(in_features).
    for layer, fan_in, fan_out in LAYERS:
        bound = 1 / np.sqrt(fan_in)
        weight = rng.uniform(-bound, bound, (fan_out, fan_in))
        inputs[f"{layer}.weight"] = weight.astype(np.float32)
        inputs[f"{layer}.bias"] = rng.uniform(-bound, bound, fan_out).astype(np.float32)
    inputs["x"] = rng.standard_normal((size, LAYERS[0][1]), dtype=np.float32)
    inputs["labels"] = rng.integers(0, LAYERS[-1][2], size)  # int64, as cross_entropy expects
    return inputs
