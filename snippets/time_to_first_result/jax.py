"""JAX with optax: the training step of optax's getting-started guide (loss and gradient,
optimizer.update, optax.apply_updates) compiled with jax.jit, and one call of it from the
initial weights: the first result a training script waits for."""

import jax
import jax.numpy as jnp
import optax

PARAMETERS = ("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias")
optimizer = optax.adam(learning_rate=1e-2)  # b1=0.9, b2=0.999, eps=1e-8, as torch.optim.Adam


def setup(inputs, device):
    # A plain dict of arrays, with PyTorch's parameter names and (out, in) weight layout.
    params = {name: jax.device_put(inputs[name], device) for name in PARAMETERS}
    # Adam's state (zero moments and a step count), made by one small XLA program instead of
    # one eager program per parameter shape.
    opt_state = jax.jit(optimizer.init)(params)
    x = jax.device_put(inputs["x"], device)
    labels = jax.device_put(inputs["labels"], device)
    return params, opt_state, x, labels


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


@jax.jit  # one XLA program: forward, backward and the Adam update
def train_step(params, opt_state, x, labels):
    loss, grads = jax.value_and_grad(loss_fn)(params, x, labels)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    params = optax.apply_updates(params, updates)
    return params, opt_state, loss


def first_step(params, opt_state, x, labels):
    new_params, _, loss = train_step(params, opt_state, x, labels)
    return {"loss": loss, "params": new_params}


# The same step in the three rows: in a new process whose persistent compilation cache has
# never seen this step or was filled by an earlier process (the harness sets the cache up), and
# in a process that runs it repeatedly.
cold = warm = steady = first_step


def show(result):
    print(f"loss before the step: {result['loss']:.6f}")
    first = result["params"]["fc3.bias"][:4].tolist()
    print("fc3.bias after one Adam step, first 4:", " ".join(f"{v:.6f}" for v in first))
