"""The shared data: query, key and value for a batch of 4 sequences of length T, 8 heads of
dimension 64, laid out (batch, T, heads, head_dim) as a linear projection reshaped gives them."""

import numpy as np


def make_inputs(size):
    rng = np.random.default_rng(seed=0)
    shape = (4, size, 8, 64)
    return {name: rng.standard_normal(shape, dtype=np.float32) for name in ("q", "k", "v")}
