"""The shared data: the seed both sides start from and the number n of normals to draw, as 0-d
integer arrays. There is no array data: each framework makes its own random numbers."""

import numpy as np


def make_inputs(size):
    return {"seed": np.array(0), "n": np.array(size)}
