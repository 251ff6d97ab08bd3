"""JAX: the parameters are a plain dict of arrays, and jax.value_and_grad turns the loss function
into one that returns the loss and a dict of gradients of the same shape. Eager, it traces and
differentiates the loss on every call; jax.jit compiles that into one XLA program."""

import jax
import jax.numpy as jnp

PARAMETERS = ("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias")


def setup(inputs, device):
    # PyTorch's parameter names and (out, in) weight layout, so both sides' gradients match.
    params = {name: jax.device_put(inputs[name], device) for name in PARAMETERS}
    x = jax.device_put(inputs["x"], device)
    labels = jax.device_put(inputs["labels"], device)
    return params, x, labels


def linear(x, weight, bias):  # torch.nn.functional.linear: x @ weight.T + bias
    # einsum contracts over in_features of the (out, in) weight as stored: no transposed copy.
    return jnp.einsum("bi,oi->bo", x, weight) + bias


def predict(params, x):
    hidden = jax.nn.relu(linear(x, params["fc1.weight"], params["fc1.bias"]))
    hidden = jax.nn.relu(linear(hidden, params["fc2.weight"], params["fc2.bias"]))
    return linear(hidden, params["fc3.weight"], params["fc3.bias"])


def loss_fn(params, x, labels):  # mean cross-entropy over the batch
    log_probs = jax.nn.log_softmax(predict(params, x))
    return -jnp.mean(jnp.take_along_axis(log_probs, labels[:, None], axis=1))


# Differentiates with respect to the first argument, params; returns (loss, grads).
eager = jax.value_and_grad(loss_fn)
compiled = jax.jit(eager)  # traced once per input shape, then one XLA program per call


def show(result):
    loss, grads = result
    print(f"loss: {float(loss):.6f}")
    for name in PARAMETERS:
        g = grads[name]
        print(f"d loss / d {name}: shape {tuple(g.shape)}, norm {float(jnp.linalg.norm(g)):.6f}")
