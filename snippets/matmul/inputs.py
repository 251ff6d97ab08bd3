"""The shared data: two square float32 matrices of side n."""

import numpy as np


def make_inputs(size):
    rng = np.random.default_rng(seed=0)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    return {"a": a, "b": b}
