"""The shared data: a batch of 16 symmetric positive-definite float32 matrices of side n with
well-separated eigenvalues, and 16 right-hand sides per matrix."""

import numpy as np

BATCH = 16
RIGHT_HAND_SIDES = 16


def make_inputs(size):
    rng = np.random.default_rng(seed=0)
    # A = Q diag(w) Q^T with random orthogonal Q and eigenvalues 1, 2, ..., n (plus a jitter
    # below 0.5), so neighbouring eigenvalues are at least 0.5 apart: each eigenvector is
    # well defined (up to its sign) and the condition number is about n.
    q, _ = np.linalg.qr(rng.standard_normal((BATCH, size, size)))
    w = np.arange(1, size + 1) + rng.uniform(0.0, 0.5, (BATCH, size))
    a = (q * w[:, None, :]) @ q.transpose(0, 2, 1)
    a = (a + a.transpose(0, 2, 1)) / 2  # exactly symmetric before rounding to float32
    b = rng.standard_normal((BATCH, size, RIGHT_HAND_SIDES))
    return {"a": a.astype(np.float32), "b": b.astype(np.float32)}
