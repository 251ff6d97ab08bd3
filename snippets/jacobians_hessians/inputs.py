"""The shared data: a weight matrix W (n x n, scaled by 1/sqrt(n)), a bias b and a point x,
all float32."""

import numpy as np


def make_inputs(size):
    rng = np.random.default_rng(seed=0)
    # Scaled so that W @ x + b stays of order one at every n (tanh and cosh stay well inside
    # float32's range, and the derivatives do not vanish).
    weight = rng.standard_normal((size, size), dtype=np.float32) / np.float32(np.sqrt(size))
    bias = rng.standard_normal(size, dtype=np.float32)
    x = rng.standard_normal(size, dtype=np.float32)
    return {"weight": weight, "bias": bias, "x": x}
