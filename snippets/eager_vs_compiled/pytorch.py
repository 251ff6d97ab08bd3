"""PyTorch: eager code runs one kernel per operation; torch.compile traces the function and
generates one fused kernel for it on the first call."""

import torch


def setup(inputs, device):
    return torch.from_numpy(inputs["x"]).to(device)


def eager(x):
    return x + x * x + x * x * x


compiled = torch.compile(eager)


def show(result):
    print(result[:4], "...", tuple(result.shape))
