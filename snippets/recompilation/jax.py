"""JAX: jax.jit compiles one XLA program per input shape. The bucketed variant pads each
sequence (on the host, with NumPy, as a data pipeline would) to one of four bucket lengths and
masks the padding, so at most four programs are compiled for any lengths up to 1024."""

import jax
import jax.numpy as jnp
import numpy as np

BUCKETS = (128, 256, 512, 1024)  # the padded lengths: one compiled program each, at most


def setup(inputs, device):
    names = sorted(name for name in inputs if name.startswith("seq"))
    sequences = [jax.device_put(inputs[name], device) for name in names]
    padded = []  # (sequence padded with zero rows to its bucket, its true length)
    for name in names:
        x = inputs[name]
        bucket = next(b for b in BUCKETS if b >= len(x))
        rows = np.zeros((bucket, x.shape[1]), dtype=np.float32)
        rows[: len(x)] = x
        padded.append((jax.device_put(rows, device), jax.device_put(np.int32(len(x)), device)))
    w = jax.device_put(inputs["w"], device)
    v = jax.device_put(inputs["v"], device)
    return sequences, padded, w, v  # static uses the sequences, dynamic the padded copies


@jax.jit
def pool(x, w, v):
    h = jnp.tanh(x @ w)  # (length, 64)
    p = jax.nn.softmax(h @ v)  # one weight per row of the sequence
    return p @ h  # (64,)


@jax.jit
def pool_padded(x, length, w, v):
    h = jnp.tanh(x @ w)  # (bucket, 64)
    valid = jnp.arange(x.shape[0]) < length  # False on the padding rows
    p = jax.nn.softmax(h @ v, where=valid)  # the padding rows get weight 0
    return p @ h  # (64,)


def static(sequences, padded, w, v):
    # A new shape is a new trace and compile: one program per distinct length.
    return [pool(x, w, v) for x in sequences]


def dynamic(sequences, padded, w, v):
    # The length is an array argument, not part of the shape: one program per bucket.
    return [pool_padded(x, length, w, v) for x, length in padded]


def show(result):
    print(f"{len(result)} pooled vectors of shape {result[0].shape}, {result[0].dtype}")
    print("first:", result[0][:4])
