"""PyTorch: F.conv2d, the call inside nn.Conv2d. Tensors are always indexed (N, C, H, W);
channels-last is a memory format, the same tensor stored with the channels innermost."""

import torch
import torch.nn.functional as F


def setup(inputs, device):
    # cuDNN times its algorithms per shape, as XLA's autotuner does (no effect on CPU)
    torch.backends.cudnn.benchmark = True
    x = torch.from_numpy(inputs["x"]).to(device)  # [N, C, H, W]
    w = torch.from_numpy(inputs["w"]).to(device)  # [outC, inC, kH, kW]
    return {
        "nchw": (x, w),
        # Same shapes, new strides: stored as NHWC and OHWI (the channels_last tutorial's recipe)
        "nhwc": (x.to(memory_format=torch.channels_last),
                 w.to(memory_format=torch.channels_last)),
    }


def nhwc(tensors):
    x, w = tensors["nhwc"]
    y = F.conv2d(x, w, padding=1)  # channels_last in, channels_last out
    return y.permute(0, 2, 3, 1)  # a view indexed [N, H, W, C] like JAX's NHWC output: no copy


def nchw(tensors):
    x, w = tensors["nchw"]
    return F.conv2d(x, w, padding=1)


def show(y):
    mean, std = y.mean().item(), y.std(correction=0).item()
    print(f"y: {tuple(y.shape)} {y.dtype}, mean {mean:.5f}, std {std:.5f}")
