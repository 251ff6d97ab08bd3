"""JAX: lax.conv_general_dilated, the convolution that Flax's Conv layer calls. dimension_numbers
names the layout of input, kernel and output: NHWC/HWIO is Flax's, NCHW/OIHW is PyTorch's."""

import jax
import numpy as np
from jax import lax


def setup(inputs, device):
    x, w = inputs["x"], inputs["w"]  # x: [N, C, H, W], w: [outC, inC, kH, kW]
    return {
        "nchw": (jax.device_put(x, device), jax.device_put(w, device)),
        # [N, C, H, W] -> [N, H, W, C] and [outC, inC, kH, kW] -> [kH, kW, inC, outC]
        "nhwc": (jax.device_put(np.transpose(x, (0, 2, 3, 1)), device),
                 jax.device_put(np.transpose(w, (2, 3, 1, 0)), device)),
    }


def nhwc(arrays):
    x, w = arrays["nhwc"]
    return lax.conv_general_dilated(x, w, window_strides=(1, 1), padding="SAME",
                                    dimension_numbers=("NHWC", "HWIO", "NHWC"))


def nchw(arrays):
    x, w = arrays["nchw"]
    return lax.conv_general_dilated(x, w, window_strides=(1, 1), padding="SAME",
                                    dimension_numbers=("NCHW", "OIHW", "NCHW"))


def show(y):
    print(f"y: {y.shape} {y.dtype}, mean {float(y.mean()):.5f}, std {float(y.std()):.5f}")
