"""JAX: the @ operator lowers to an XLA dot (Eigen or oneDNN on CPU, cuBLAS on CUDA)."""

import jax


def setup(inputs, device):
    a = jax.device_put(inputs["a"], device)
    b = jax.device_put(inputs["b"], device)
    return a, b


def matmul(a, b):
    return a @ b


def show(c):
    print(f"C: {c.shape} {c.dtype}, C[0, :3] = {c[0, :3].tolist()}")
