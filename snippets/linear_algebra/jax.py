"""JAX: jax.scipy.linalg's cho_factor and cho_solve, and jnp.linalg.eigh; each runs through
jax.jit inside JAX and calls LAPACK on CPU and cuSOLVER on NVIDIA GPUs."""

import jax
import jax.numpy as jnp
from jax.scipy.linalg import cho_factor, cho_solve


def setup(inputs, device):
    a = jax.device_put(inputs["a"], device)  # (batch, n, n), symmetric positive definite
    b = jax.device_put(inputs["b"], device)  # (batch, n, k) right-hand sides
    return a, b


def cholesky_solve(a, b):
    factor = cho_factor(a, lower=True)  # (L, lower): L L^T = A
    return cho_solve(factor, b)  # X with A X = B, by two triangular solves


def eigh(a, b):  # every variant receives (a, b); eigh does not use b
    w, v = jnp.linalg.eigh(a)  # ascending eigenvalues, eigenvectors in the columns of v
    # An eigenvector's sign is arbitrary: make each column's entries sum to a positive number.
    v = v * jnp.sign(v.sum(axis=-2, keepdims=True))
    return w, v


def numbers(values):
    return ", ".join(f"{value:.4f}" for value in values.tolist())


def show(result):
    if isinstance(result, tuple):
        w, v = result
        print(f"w: {w.shape}; w[0, :4] = [{numbers(w[0, :4])}]")
        print(f"V: {v.shape}; V[0, :3, 0] = [{numbers(v[0, :3, 0])}]")
    else:
        print(f"X: {result.shape}; X[0, :3, 0] = [{numbers(result[0, :3, 0])}]")
