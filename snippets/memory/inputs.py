"""The shared data: a batch of 1024 inputs with 128 features and a regression target of the same
shape (drawn first, so the same for every depth), then the starting weights of a stack of
`blocks` residual MLP blocks (128 -> 512 -> 128, GELU), named as torch.nn.Linear names them and
stacked over the blocks: fc1.weight is (blocks, 512, 128), as (out_features, in_features) per
block."""

import numpy as np

BATCH, FEATURES, HIDDEN = 1024, 128, 512


def make_inputs(size):
    rng = np.random.default_rng(seed=0)
    inputs = {
        "x": rng.standard_normal((BATCH, FEATURES)).astype(np.float32),
        "y": rng.standard_normal((BATCH, FEATURES)).astype(np.float32),
    }
    # torch.nn.Linear's default initialization: uniform in +-1/sqrt(in_features).
    layers = (("fc1", FEATURES, HIDDEN), ("fc2", HIDDEN, FEATURES))
    for layer, fan_in, fan_out in layers:
        bound = 1 / np.sqrt(fan_in)
        weight = rng.uniform(-bound, bound, (size, fan_out, fan_in))
        inputs[f"{layer}.weight"] = weight.astype(np.float32)
        inputs[f"{layer}.bias"] = rng.uniform(-bound, bound, (size, fan_out)).astype(np.float32)
    return inputs
