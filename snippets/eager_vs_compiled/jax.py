"""JAX: eager code dispatches one precompiled operation at a time; jax.jit traces the function
and compiles the whole of it with XLA on the first call."""

import jax


def setup(inputs, device):
    return jax.device_put(inputs["x"], device)


def eager(x):
    return x + x * x + x * x * x


compiled = jax.jit(eager)


def show(result):
    print(result[:4], "...", result.shape)
