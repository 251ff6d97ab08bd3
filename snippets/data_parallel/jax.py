"""JAX: one SGD step (optax) on an MLP, as the sharding tutorial writes batch data parallelism:
the step is an ordinary jitted function of arrays; placing the batch sharded over a 1-D mesh of
all devices, and the parameters replicated on it, makes jax.jit compile a partitioned program, with
the all-reduce of the gradients inserted by the compiler."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import NamedSharding, PartitionSpec

PARAMETERS = ("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias")
optimizer = optax.sgd(learning_rate=0.1)  # plain SGD, as torch.optim.SGD(lr=0.1)


def setup(inputs, device):
    params = {name: inputs[name] for name in PARAMETERS}
    opt_state = optimizer.init(params)
    # The baseline: everything on one device.
    one_device = jax.device_put((params, opt_state, inputs["x"], inputs["labels"]), device)
    # All devices in a 1-D mesh whose one axis is named 'batch' (on a CPU: as many devices as
    # JAX_NUM_CPU_DEVICES makes; on GPUs: every GPU).
    mesh = jax.make_mesh((len(jax.devices()),), ("batch",))
    print(f"mesh: {dict(mesh.shape)} over {jax.devices()}")
    replicated = NamedSharding(mesh, PartitionSpec())  # a whole copy on every device
    by_rows = NamedSharding(mesh, PartitionSpec("batch"))  # one block of rows per device
    on_mesh = (jax.device_put(params, replicated), jax.device_put(opt_state, replicated),
               jax.device_put(inputs["x"], by_rows), jax.device_put(inputs["labels"], by_rows))
    x = on_mesh[2]
    print(f"x on the mesh: {jax.typeof(x)}, blocks of {x.addressable_shards[0].data.shape}")
    arguments.append(on_mesh)  # for show(), which looks at the compiled program
    return one_device, on_mesh


def linear(x, weight, bias):  # torch.nn.functional.linear: x @ weight.T + bias
    return jnp.einsum("bi,oi->bo", x, weight) + bias


def loss_fn(params, x, labels):
    hidden = jax.nn.relu(linear(x, params["fc1.weight"], params["fc1.bias"]))
    hidden = jax.nn.relu(linear(hidden, params["fc2.weight"], params["fc2.bias"]))
    logits = linear(hidden, params["fc3.weight"], params["fc3.bias"])
    # The mean over the whole (global) batch, however it is sharded.
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()


@jax.jit  # one function for both variants: the arguments' shardings decide how it is compiled
def train_step(params, opt_state, x, labels):
    loss, grads = jax.value_and_grad(loss_fn)(params, x, labels)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss


def single_device(one_device, on_mesh):
    params, _, _ = train_step(*one_device)
    return params  # the updated weights


def data_parallel(one_device, on_mesh):
    params, _, _ = train_step(*on_mesh)
    return params  # the updated weights, replicated on every device


shown = []  # the results show() printed, in variant order: single_device first
arguments = []  # the sharded arguments, from setup


def collectives(*args):
    """The collectives in the program jax.jit compiled for these arguments, with their operands'
    types (after the first call: compiling again here is not timed)."""
    text = train_step.lower(*args).compile().as_text()
    found = re.findall(r"= (.*?) (all-reduce|all-gather|reduce-scatter|all-to-all)"
                       r"(?:-start)?\(", text)
    return [(name, re.sub(r"\{[^}]*\}|/\*.*?\*/", "", types)) for types, name in found]


def show(params):
    shown.append({name: np.asarray(value) for name, value in params.items()})
    print(f"updated weights on: {params['fc1.weight'].sharding}")
    print("fc3.bias after the step:", np.array2string(shown[-1]["fc3.bias"], precision=5))
    if len(shown) > 1:
        difference = max(np.abs(shown[-1][name] - shown[0][name]).max() for name in PARAMETERS)
        print(f"largest difference from the single-device step: {difference:.2e}")
        found = collectives(*arguments[0])
        print(f"collectives in the compiled split step: {len(found)}")
        for name, types in found:
            print(f"  {name} of {types}")
