"""PyTorch: torch.linalg.cholesky_ex with torch.cholesky_solve, and torch.linalg.eigh; each calls
LAPACK (MKL in the x86 wheels) on CPU, and cuSOLVER or MAGMA on NVIDIA GPUs."""

import torch


def setup(inputs, device):
    a = torch.from_numpy(inputs["a"]).to(device)  # (batch, n, n), symmetric positive definite
    b = torch.from_numpy(inputs["b"]).to(device)  # (batch, n, k) right-hand sides
    return a, b


def cholesky_solve(a, b):
    # Lower triangular L with L L^T = A; the second output (LAPACK's info per matrix) is unread.
    factor, _ = torch.linalg.cholesky_ex(a)  # no check or sync, like JAX (NaN on failure)
    return torch.cholesky_solve(b, factor)  # X with A X = B, by two triangular solves


def eigh(a, b):  # every variant receives (a, b); eigh does not use b
    w, v = torch.linalg.eigh(a)  # ascending eigenvalues, eigenvectors in the columns of v
    # An eigenvector's sign is arbitrary: make each column's entries sum to a positive number.
    v = v * torch.sign(v.sum(dim=-2, keepdim=True))
    return w, v


def numbers(values):
    return ", ".join(f"{value:.4f}" for value in values.tolist())


def show(result):
    if isinstance(result, tuple):
        w, v = result
        print(f"w: {tuple(w.shape)}; w[0, :4] = [{numbers(w[0, :4])}]")
        print(f"V: {tuple(v.shape)}; V[0, :3, 0] = [{numbers(v[0, :3, 0])}]")
    else:
        print(f"X: {tuple(result.shape)}; X[0, :3, 0] = [{numbers(result[0, :3, 0])}]")
