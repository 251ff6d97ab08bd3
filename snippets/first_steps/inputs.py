"""The shared data: one random batch and one set of starting weights, for both sides."""

import numpy as np


def make_inputs(size):
    rng = np.random.default_rng(seed=0)
    x = rng.standard_normal((size, 10), dtype=np.float32)
    true_weight = rng.standard_normal((10, 1), dtype=np.float32)
    noise = rng.standard_normal((size, 1), dtype=np.float32)
    y = x @ true_weight + 0.1 * noise
    # Laid out as torch.nn.Linear stores them: weight is (out_features, in_features).
    weight = 0.1 * rng.standard_normal((1, 10), dtype=np.float32)
    bias = np.zeros(1, dtype=np.float32)
    return {"x": x, "y": y, "weight": weight, "bias": bias}
