"""JAX: jax.jacfwd, jax.jacrev and jax.hessian turn a function into one that returns its Jacobian
or Hessian, pushing (jvp) or pulling (vjp) a whole identity basis through it at once with vmap;
jax.jit traces each of them once and compiles it with XLA."""

import jax
import jax.numpy as jnp


def setup(inputs, device):
    weight = jax.device_put(inputs["weight"], device)
    bias = jax.device_put(inputs["bias"], device)
    x = jax.device_put(inputs["x"], device)
    return weight, bias, x


def predict(weight, bias, x):  # g: R^n -> R^n
    return jnp.tanh(weight @ x + bias)


def log_cosh_loss(weight, bias, x):  # f: R^n -> R, whose gradient is W^T g(x)
    return jnp.sum(jnp.log(jnp.cosh(weight @ x + bias)))


# argnums=2: differentiate with respect to x. jax.jit goes around the outermost call; without
# it (hessian_eager), each call traces the function again and dispatches primitive by primitive.
jacfwd = jax.jit(jax.jacfwd(predict, argnums=2))  # forward mode: one JVP per input coordinate
jacrev = jax.jit(jax.jacrev(predict, argnums=2))  # reverse mode: one VJP per output coordinate
hessian_eager = jax.hessian(log_cosh_loss, argnums=2)  # jacfwd(jacrev(f)): forward-over-reverse
hessian = jax.jit(hessian_eager)


def show(result):
    row = [round(v, 5) for v in result[0, :3].tolist()]
    print(f"{result.shape} {result.dtype}, row 0 starts {row}")
