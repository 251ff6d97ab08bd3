"""The shared data: a float32 array of `n` values, the positions of 32 updates (distinct, in
random order) and the 32 float32 values to write there."""

import numpy as np

UPDATES = 32


def make_inputs(size):
    rng = np.random.default_rng(seed=0)
    return {
        "x": rng.standard_normal(size, dtype=np.float32),
        # Distinct positions, so every way of applying the updates gives the same array.
        "index": rng.choice(size, size=UPDATES, replace=False).astype(np.int32),
        "values": rng.standard_normal(UPDATES, dtype=np.float32),
    }
