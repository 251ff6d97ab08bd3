"""JAX with optax, as optax's getting-started guide writes a training loop: a pure step function
(loss and gradient, optimizer.update, optax.apply_updates) that returns the new parameters and
optimizer state, run eagerly and compiled with jax.jit, which donates the old ones."""

import jax
import jax.numpy as jnp
import optax

STEPS = 10  # Adam steps per call, on the whole data set each time
PARAMETERS = ("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias")
optimizer = optax.adam(learning_rate=1e-2)  # b1=0.9, b2=0.999, eps=1e-8, as torch.optim.Adam


def setup(inputs, device):
    # A plain dict of arrays, with PyTorch's parameter names and (out, in) weight layout.
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


def loss_fn(params, x, labels):
    logits = predict(params, x)
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()


def train_step(params, opt_state, x, labels):
    loss, grads = jax.value_and_grad(loss_fn)(params, x, labels)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    params = optax.apply_updates(params, updates)
    return params, opt_state, loss


# One XLA program per step. The old params and optimizer state are not used after the call,
# so their buffers are donated: XLA may write the new ones in place.
compiled_step = jax.jit(train_step, donate_argnums=(0, 1))


@jax.jit
def start(initial_params):
    # A fresh copy of the starting weights (the step donates its inputs: the jnp.copy docs'
    # advice) and a fresh Adam state, made by one small XLA program. Its outputs are committed
    # to the device, like the step's, so the step's cache key is the same at every step.
    params = jax.tree.map(jnp.copy, initial_params)
    return params, optimizer.init(params)


def train(step, initial_params, x, labels):
    params, opt_state = start(initial_params)
    losses = []
    for _ in range(STEPS):
        params, opt_state, loss = step(params, opt_state, x, labels)
        losses.append(loss)
    return jnp.stack(losses)  # the loss before each step: the loss curve


def eager(params, x, labels):
    return train(train_step, params, x, labels)


def compiled(params, x, labels):
    return train(compiled_step, params, x, labels)


def show(losses):
    print(f"loss over {STEPS} Adam steps:")
    print(" ".join(f"{loss:.4f}" for loss in losses.tolist()))
