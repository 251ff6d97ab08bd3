"""JAX: one jitted chain of four matrix products, run in float32 at the highest and at JAX's
default matmul precision (the `precision` argument), in float64 (64-bit types enabled only inside
`with jax.enable_x64(True)`), and in bfloat16."""

import functools

import jax
import jax.numpy as jnp
import numpy as np

reference = {}  # the float64 NumPy result from inputs.py, kept by setup for show() only


def setup(inputs, device):
    reference["y"] = inputs["reference"]
    print(f"process-wide: jax_default_matmul_precision="
          f"{jax.config.jax_default_matmul_precision!r}, "
          f"jax_enable_x64={jax.config.jax_enable_x64}")
    x = jax.device_put(inputs["x"], device)
    weights = [jax.device_put(w, device) for w in inputs["weights"]]
    with jax.enable_x64(True):  # float64 arrays can only be created with 64-bit types enabled
        x64, weights64 = x.astype(jnp.float64), [w.astype(jnp.float64) for w in weights]
    x16, weights16 = x.astype(jnp.bfloat16), [w.astype(jnp.bfloat16) for w in weights]
    return {"float32": (x, weights), "float64": (x64, weights64), "bfloat16": (x16, weights16)}


@functools.partial(jax.jit, static_argnames="precision")
def chain(x, weights, precision):
    for w in weights:
        x = jnp.matmul(x, w, precision=precision)
    return x


# Each call names its precision, so the process-wide default does not apply. "highest" asks for
# true float32 everywhere; "default" is what a plain `@` gets in a fresh process: TF32 on recent
# NVIDIA GPUs, bfloat16 passes on TPU, true float32 on CPU.
def float32_highest(arrays):
    return chain(*arrays["float32"], precision="highest")


def float32_tf32(arrays):
    return chain(*arrays["float32"], precision="default")


def float64(arrays):
    with jax.enable_x64(True):  # 64-bit types in this block only: the flag is off again after
        return chain(*arrays["float64"], precision="default")


def bfloat16(arrays):
    return chain(*arrays["bfloat16"], precision="default")


def show(y):
    error = np.linalg.norm(np.asarray(y, dtype=np.float64) - reference["y"]) \
        / np.linalg.norm(reference["y"])
    print(f"{y.dtype} result {y.shape}: relative error {error:.2e} against the float64 "
          f"reference (machine epsilon of {y.dtype}: {jnp.finfo(y.dtype).eps:.1e})")
