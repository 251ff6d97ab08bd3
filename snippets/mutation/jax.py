"""JAX: arrays are immutable: x[i] = v raises a TypeError, and x.at[i].set(v) returns a new array
(outside jax.jit, a copy of x). Updates happen in place under jax.jit, in a jitted call that
donates its input (donate_argnums), and in a mutable jax.Ref."""

import functools

import jax


def setup(inputs, device):
    x = jax.device_put(inputs["x"], device)
    values = jax.device_put(inputs["values"], device)
    index = jax.device_put(inputs["index"], device)
    # A Python loop indexes with Python ints: the same positions, on the host.
    positions = tuple(inputs["index"].tolist())
    return x, positions, values, index


def loop(x, positions, values, index):
    for i, v in zip(positions, values):
        x = x.at[i].set(v)  # a new array: in eager mode, a copy of all of x
    return x


def ref_loop(x, positions, values, index):
    x_ref = jax.new_ref(x)  # a mutable array whose buffer starts as a copy of x
    for i, v in zip(positions, values):
        x_ref[i] = v  # writes one element of that buffer in place
    return x_ref[...]  # reads the whole value out as an Array


# The positions are static (part of the program, like the constants Dynamo guards on); XLA
# copies x once into the output buffer, then applies each update to that buffer in place.
compiled = jax.jit(loop, static_argnums=1)


# One update, jitted; donating x lets XLA write the result into x's own buffer.
@functools.partial(jax.jit, donate_argnums=0)
def set_one(x, i, v):
    return x.at[i].set(v)


def loop_donated(x, positions, values, index):
    x = x.copy()  # a buffer of our own: donation deletes it, and the caller keeps its x
    for i, v in zip(positions, values):
        x = set_one(x, i, v)  # in place: the old x is donated and deleted
    return x


def vectorized(x, positions, values, index):
    return x.at[index].set(values)  # all updates in one scatter


# The whole update as one program: a copy of x and one scatter. The positions are not used
# here; marked static, their 32 Python ints are not passed in as arguments.
vectorized_compiled = jax.jit(vectorized, static_argnums=1)


def item_assignment(x, positions, values, index):
    for i, v in zip(positions, values):
        x[i] = v  # the PyTorch loop's line: JAX raises a TypeError
    return x


def show(out):
    first = ", ".join(f"{value:.4f}" for value in out[:4].tolist())
    print(f"out: {out.shape} {out.dtype}; out[:4] = [{first}]")
