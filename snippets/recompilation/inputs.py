"""The shared data: `size` float32 sequences of 64 features, each of a different length (100,
175, 250, ... rows: a new shape at every call), and the weights of a small attention-pooling
layer that turns a sequence into one vector of 64 values."""

import numpy as np

FEATURES = 64


def make_inputs(size):
    rng = np.random.default_rng(seed=0)
    inputs = {
        "w": rng.standard_normal((FEATURES, FEATURES), dtype=np.float32) / np.float32(8),
        "v": rng.standard_normal(FEATURES, dtype=np.float32),
    }
    for i in range(size):
        length = 100 + 75 * i
        inputs[f"seq{i:02d}"] = rng.standard_normal((length, FEATURES), dtype=np.float32)
    return inputs
