"""The shared data: the two 64 x 64 weight matrices W and V of the recurrence (standard normal,
scaled by 1/8 = 1/sqrt(64)), the initial state h (64 values) and the T inputs xs (a T x 64
array), all float32."""

import numpy as np

WIDTH = 64


def make_inputs(size):
    rng = np.random.default_rng(seed=0)
    scale = np.float32(1 / np.sqrt(WIDTH))
    return {
        "W": rng.standard_normal((WIDTH, WIDTH), dtype=np.float32) * scale,
        "V": rng.standard_normal((WIDTH, WIDTH), dtype=np.float32) * scale,
        "h": rng.standard_normal(WIDTH, dtype=np.float32),
        "xs": rng.standard_normal((size, WIDTH), dtype=np.float32),  # one row per step
    }
