"""JAX: in eager mode each operation is dispatched on its own (a small precompiled XLA program per
operation); jax.jit traces the whole chain once and runs it as one XLA program per call."""

import jax


def setup(inputs, device):
    x = jax.device_put(inputs["x"], device)
    a = jax.device_put(inputs["a"], device)
    b = jax.device_put(inputs["b"], device)
    return x, a, b, int(inputs["ops"])  # the op count shapes the program, so it is a Python int


def eager(x, a, b, ops):
    y = x
    for _ in range(ops // 2):  # each step is two operations: a multiply and an add
        y = y * a + b
    return y


# ops is static: jax.jit unrolls the Python loop while tracing, and XLA fuses the chain.
compiled = jax.jit(eager, static_argnums=3)


def show(y):
    print(f"y: {y.shape} {y.dtype}, y[:4] = {y[:4].tolist()}")
