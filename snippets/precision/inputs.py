"""The shared data: a float32 matrix x of side n, four float32 weight matrices scaled by 1/sqrt(n)
(so that every product keeps entries of order 1), and the reference result
x @ W1 @ W2 @ W3 @ W4 computed by NumPy in float64 from those same float32 values."""

import numpy as np

LAYERS = 4


def make_inputs(size):
    rng = np.random.default_rng(seed=0)
    x = rng.standard_normal((size, size), dtype=np.float32)
    weights = (rng.standard_normal((LAYERS, size, size)) / np.sqrt(size)).astype(np.float32)
    reference = x.astype(np.float64)
    for w in weights:
        reference = reference @ w.astype(np.float64)
    return {"x": x, "weights": weights, "reference": reference}
