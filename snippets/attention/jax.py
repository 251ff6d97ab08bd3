"""JAX: jax.nn.dot_product_attention takes (batch, T, heads, head_dim) arrays; jax.jit compiles
it as it would inside a jitted model, and implementation=None (the default) lets JAX pick."""

import jax

# On NVIDIA GPUs PyTorch's float32 fused attention multiplies with 3xTF32 (three TF32 products
# that emulate float32); ask XLA for the same algorithm there, and for full float32 elsewhere.
_PRECISION = "TF32_TF32_F32_X3" if jax.default_backend() == "gpu" else "highest"


def setup(inputs, device):
    return tuple(jax.device_put(inputs[name], device) for name in ("q", "k", "v"))


@jax.jit
def full(q, k, v):
    with jax.default_matmul_precision(_PRECISION):
        return jax.nn.dot_product_attention(q, k, v)


@jax.jit
def causal(q, k, v):
    with jax.default_matmul_precision(_PRECISION):
        return jax.nn.dot_product_attention(q, k, v, is_causal=True)


def show(out):
    print(f"out: {out.shape} {out.dtype}, out[0, 0, 0, :3] = {out[0, 0, 0, :3].tolist()}")
