"""JAX: per-example gradients by composing transformations, as JAX's README and its DP-SGD example
do: jax.vmap over jax.grad of a loss written for one example (eager, and under jax.jit), against
a Python loop of calls to the jitted one-example gradient."""

import jax
import jax.numpy as jnp

PARAMETERS = ("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias")


def setup(inputs, device):
    # A plain dict of arrays, with PyTorch's parameter names and (out, in) weight layout.
    params = {name: jax.device_put(inputs[name], device) for name in PARAMETERS}
    x = jax.device_put(inputs["x"], device)
    labels = jax.device_put(inputs["labels"], device)
    return params, x, labels


def predict(params, x):  # one example: x has shape (in_features,)
    hidden = jax.nn.relu(params["fc1.weight"] @ x + params["fc1.bias"])
    return params["fc2.weight"] @ hidden + params["fc2.bias"]


def loss_of_one(params, x, label):
    return -jax.nn.log_softmax(predict(params, x))[label]  # cross-entropy


# The README's building block: the gradient with respect to params of one example's loss,
# compiled once by jax.jit and then reused by every iteration of the loop.
grad_of_one = jax.jit(jax.grad(loss_of_one))


def loop(params, x, labels):
    """The baseline: one gradient call per example, then stack each parameter's gradients."""
    per_example = [grad_of_one(params, sample, label)
                   for sample, label in zip(x, labels, strict=True)]
    return jax.tree.map(lambda *g: jnp.stack(g), *per_example)


# vmap maps the one-example gradient over axis 0 of x and labels, sharing params. It maps the
# plain jax.grad, so without jax.jit every call traces it again and runs primitive by primitive.
vmapped = jax.vmap(jax.grad(loss_of_one), in_axes=(None, 0, 0))
compiled = jax.jit(vmapped)


def show(grads):
    for name, g in grads.items():
        print(f"{name}: {g.shape}")
    # What DP-SGD clips: the norm of each example's whole gradient.
    norms = jnp.sqrt(sum(jnp.sum(g.reshape(len(g), -1) ** 2, axis=1) for g in grads.values()))
    print("per-example gradient norms:", norms.tolist())
