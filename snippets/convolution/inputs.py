"""The shared data: a batch of 8 images with 32 channels of side `side`, laid out NCHW, and the
kernel of a 3 x 3 convolution from 32 to 64 channels, laid out OIHW (as nn.Conv2d stores it)."""

import numpy as np


def make_inputs(size):
    rng = np.random.default_rng(seed=0)
    x = rng.standard_normal((8, 32, size, size), dtype=np.float32)
    # Scaled by 1 / sqrt(fan_in), fan_in = 32 * 3 * 3, so that the outputs are of order 1.
    w = rng.standard_normal((64, 32, 3, 3), dtype=np.float32) / np.float32(np.sqrt(32 * 3 * 3))
    return {"x": x, "w": w}
