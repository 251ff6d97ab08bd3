"""PyTorch: the @ operator calls the platform's BLAS (MKL or oneDNN on CPU, cuBLAS on CUDA)."""

import torch


def setup(inputs, device):
    a = torch.from_numpy(inputs["a"]).to(device)
    b = torch.from_numpy(inputs["b"]).to(device)
    return a, b


def matmul(a, b):
    return a @ b


def show(c):
    print(f"C: {tuple(c.shape)} {c.dtype}, C[0, :3] = {c[0, :3].tolist()}")
