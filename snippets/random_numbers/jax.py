"""JAX: a random function takes an explicit key and never changes it, so the same key gives the
same numbers, and jax.random.split derives new keys; jax.jit compiles the draw (Threefry bits,
then the normal transform) into one XLA program."""

import jax
import jax.numpy as jnp


def first(x):  # the first three values, rounded for printing
    return [round(v, 4) for v in x[:3].tolist()]


def setup(inputs, device):
    key = jax.device_put(jax.random.key(int(inputs["seed"])), device)
    # Split first: split() derives new, independent keys, and `key` is not used again.
    key_a, key_b = jax.random.split(key)
    # Determinism: a key gives the same numbers each time it is used ...
    print("key_a, used twice:", first(jax.random.normal(key_a, (3,))),
          first(jax.random.normal(key_a, (3,))))
    # ... and the other split key gives numbers of its own.
    print("key_b:            ", first(jax.random.normal(key_b, (3,))))
    return key_a, int(inputs["n"])  # n sets the output's shape, so it is a Python int


def eager(key, n):
    return jax.random.normal(key, (n,), dtype=jnp.float32)


compiled = jax.jit(eager, static_argnums=1)  # n is static: one program per shape


def show(sample):
    print(f"{sample.shape[0]} normals: first three {first(sample)}, "
          f"mean {float(sample.mean()):+.4f}, std {float(sample.std()):.4f}")
