"""JAX: a Python loop runs op by op, and jax.jit unrolls it into one program with T copies of
the step; lax.scan compiles the step once and loops at run time. A branch on a traced value needs
lax.cond: a Python `if` on it raises under jax.jit."""

import jax
import jax.numpy as jnp
from jax import lax


def setup(inputs, device):
    return tuple(jax.device_put(inputs[name], device) for name in ("W", "V", "xs", "h"))


# The recurrence h = tanh(W h + x), once per row x of xs. (V is the branching variants' second
# matrix.)
def eager(W, V, xs, h):
    for x in xs:
        h = jnp.tanh(W @ h + x)
    return h


# Tracing runs the Python loop: the program holds T copies of the step.
unrolled = jax.jit(eager)


@jax.jit
def scan(W, V, xs, h):
    def step(h, x):
        return jnp.tanh(W @ h + x), None  # (new carry, no per-step output)

    h, _ = lax.scan(step, h, xs)  # one step in the program, run T times
    return h


# A branch on the state at every step: each step uses W or V depending on the sign of sum(h).
# lax.cond traces and compiles both branches; at run time the program runs the one chosen.
@jax.jit
def branch(W, V, xs, h):
    def step(h, x):
        h = lax.cond(h.sum() > 0,
                     lambda h: jnp.tanh(W @ h + x),
                     lambda h: jnp.tanh(V @ h + x),
                     h)
        return h, None

    h, _ = lax.scan(step, h, xs)
    return h


# The same branch as a Python `if` (fine in eager code, where h.sum() > 0 has a value).
def python_if(W, V, xs, h):
    for x in xs:
        if h.sum() > 0:
            h = jnp.tanh(W @ h + x)
        else:
            h = jnp.tanh(V @ h + x)
    return h


# Under jax.jit, h.sum() > 0 is a tracer with no concrete truth value: tracing raises
# TracerBoolConversionError.
if_jit = jax.jit(python_if)


def show(h):
    print(f"h: {h.shape} {h.dtype}, h[:4] = {[round(v, 4) for v in h[:4].tolist()]}")
