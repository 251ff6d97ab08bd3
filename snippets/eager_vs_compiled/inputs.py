"""The shared data: one float32 vector of n standard-normal values."""

import numpy as np


def make_inputs(size):
    rng = np.random.default_rng(seed=0)
    return {"x": rng.standard_normal(size, dtype=np.float32)}
