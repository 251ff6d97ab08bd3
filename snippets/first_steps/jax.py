"""JAX: parameters are plain arrays in a dict, and jax.grad turns a loss function into its
gradient function (value_and_grad returns the loss too)."""

import jax
import jax.numpy as jnp


def setup(inputs, device):
    params = {
        "weight": jax.device_put(inputs["weight"], device),
        "bias": jax.device_put(inputs["bias"], device),
    }
    x = jax.device_put(inputs["x"], device)
    y = jax.device_put(inputs["y"], device)
    return params, x, y


def loss_fn(params, x, y):
    predictions = jnp.dot(x, params["weight"].T) + params["bias"]
    return jnp.mean((predictions - y) ** 2)


loss_and_grad = jax.value_and_grad(loss_fn)


def forward_and_grad(params, x, y):
    loss, grads = loss_and_grad(params, x, y)
    return {"loss": loss, "weight": grads["weight"], "bias": grads["bias"]}


compiled = jax.jit(forward_and_grad)  # traced once, then one XLA program per call


def show(result):
    print("loss:", result["loss"])
    print("d loss / d weight:", result["weight"])
    print("d loss / d bias:", result["bias"])
