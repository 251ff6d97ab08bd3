"""JAX with optax: one SGD step of a stack of residual MLP blocks, written as a jax.lax.scan over
the blocks' stacked weights, compiled with jax.jit. Three ways to keep what the backward pass
needs:

- no checkpointing: autodiff saves every residual of every block;
- each block checkpointed whole (jax.checkpoint without a policy, matching PyTorch's
  torch.utils.checkpoint of a whole block): the forward pass keeps only each block's input, and
  the backward pass recomputes the rest;
- each block checkpointed with the policy of the gradient-checkpointing guide's scan example,
  jax.checkpoint_policies.dots_with_no_batch_dims_saveable: the matrix products' results are
  saved, the elementwise operations (the bias additions, the GELU) recomputed.

Both with prevent_cse=False: jax.checkpoint's docstring says its protection against common
subexpression elimination is unnecessary inside a scan, and can be turned off there."""

import functools

import jax
import jax.numpy as jnp
import optax

PARAMETERS = ("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias")
optimizer = optax.sgd(learning_rate=0.1)


def setup(inputs, device):
    # A dict of arrays stacked over the blocks, with PyTorch's names and (out, in) layout.
    params = {name: jax.device_put(inputs[name], device) for name in PARAMETERS}
    opt_state = optimizer.init(params)  # plain SGD keeps no state: empty optax states
    x = jax.device_put(inputs["x"], device)
    y = jax.device_put(inputs["y"], device)
    return params, opt_state, x, y


def linear(x, weight, bias):  # torch.nn.functional.linear: x @ weight.T + bias
    return jnp.einsum("bi,oi->bo", x, weight) + bias


def block(h, p):  # one residual block: h + fc2(gelu(fc1(h)))
    hidden = jax.nn.gelu(linear(h, p["fc1.weight"], p["fc1.bias"]), approximate=False)
    return h + linear(hidden, p["fc2.weight"], p["fc2.bias"])


CHECKPOINTED = {
    None: block,
    "block": jax.checkpoint(block, prevent_cse=False),
    "policy": jax.checkpoint(
        block, prevent_cse=False, policy=jax.checkpoint_policies.dots_with_no_batch_dims_saveable
    ),
}


def forward(params, x, checkpoint):
    body = CHECKPOINTED[checkpoint]
    # One block per step of the scan, over the leading (blocks) axis of every weight.
    h, _ = jax.lax.scan(lambda h, p: (body(h, p), None), x, params)
    return h


def loss_fn(params, x, y, checkpoint):
    return jnp.mean(optax.squared_error(forward(params, x, checkpoint), y))


def train_step(params, opt_state, x, y, *, checkpoint):
    loss, grads = jax.value_and_grad(loss_fn)(params, x, y, checkpoint)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    # SGD's state stays empty, so only the new parameters (and the loss) are returned. The
    # gradients are temporaries of the compiled program: nothing outlives the call but its
    # outputs.
    return {"loss": loss, "params": optax.apply_updates(params, updates)}


# One XLA program each: forward, backward (with the recomputation, where there is one) and
# update. No buffer donation: every call here starts again from the same weights.
step = jax.jit(functools.partial(train_step, checkpoint=None))
step_remat = jax.jit(functools.partial(train_step, checkpoint="block"))
step_policy = jax.jit(functools.partial(train_step, checkpoint="policy"))

# The first two steps again, each run once in a new process (whose compilation cache an earlier
# process filled), where the memory figure is the resident memory the process adds.
step_fresh = step
step_remat_fresh = step_remat


def show(result):
    print(f"loss before the step: {result['loss']:.6f}")
    first = result["params"]["fc2.bias"][-1, :4].tolist()
    print("last block's fc2.bias after one SGD step, first 4:", " ".join(f"{v:.6f}" for v in first))
