"""The shared data: a float32 vector of 16 values, the factors a (between 0.5 and 0.9) and
offsets b of the step y = y * a + b, and the number of operations as a 0-d integer array."""

import numpy as np


def make_inputs(size):
    rng = np.random.default_rng(seed=0)
    return {
        "x": rng.standard_normal(16, dtype=np.float32),
        "a": rng.uniform(0.5, 0.9, 16).astype(np.float32),
        "b": rng.standard_normal(16, dtype=np.float32),
        "ops": np.array(size),
    }
