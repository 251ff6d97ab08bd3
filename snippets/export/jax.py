"""JAX: the MLP as a pure function of (params, x), compiled with jax.jit. jax.export traces and
lowers it to StableHLO and serializes that to bytes; jax.export.deserialize reads them back,
and jax.jit compiles the deserialized function's `call`. The exported program takes the
weights as an argument, so they travel beside it (in a NumPy .npz archive here)."""

import functools
import io
import re

import jax
import jax.numpy as jnp
import numpy as np
from jax import export

PARAMETERS = ("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias")


def setup(inputs, device):
    # A plain dict of arrays, with PyTorch's parameter names and (out, in) weight layout.
    params = {name: jax.device_put(inputs[name], device) for name in PARAMETERS}
    x = jax.device_put(inputs["x"], device)
    # Exported and loaded once here for the rows that start from a saved artifact.
    program, weights = save(params, x)
    print(f"artifact: {len(program) + len(weights):,} bytes = program {len(program):,} "
          f"+ weights (.npz) {len(weights):,}")
    print(f"float32 weights alone: {sum(p.nbytes for p in params.values()):,} bytes")
    # The matrix products' precision is part of the exported program (the harness pins
    # jax_default_matmul_precision to "highest" before export).
    stablehlo = export.deserialize(program).mlir_module()
    precisions = sorted(set(re.findall(r"precision = \[(\w+)", stablehlo)))
    print(f"matmul precision stored in the program: {', '.join(precisions)}")
    # The original's output, computed once here: the loading rows compare with it.
    reference = predict_jit(params, x)
    return params, x, (program, weights), load((program, weights), device), reference


def linear(x, weight, bias):  # torch.nn.functional.linear: x @ weight.T + bias
    return jnp.einsum("bi,oi->bo", x, weight) + bias


def predict(params, x):
    hidden = jax.nn.relu(linear(x, params["fc1.weight"], params["fc1.bias"]))
    return linear(hidden, params["fc2.weight"], params["fc2.bias"])


predict_jit = jax.jit(predict)


def save(params, x):
    # jax.export traces and lowers predict for the shapes and dtypes of (params, x) and
    # serializes the StableHLO. JAX caches traces and lowerings by function: a new function
    # object (functools.partial) makes every call trace and lower predict again (the jitted
    # helpers inside it, such as jnp.einsum's, stay cached in the process).
    program = export.export(jax.jit(functools.partial(predict)))(params, x).serialize()
    weights = io.BytesIO()
    np.savez(weights, **params)  # JAX has no weights format of its own: NumPy's .npz
    return program, weights.getvalue()


def load(artifact, device):
    program, weights = artifact
    exported = export.deserialize(program)
    # The weights' names come from the archive, so loading needs no model code.
    with np.load(io.BytesIO(weights)) as archive:
        params = {name: jax.device_put(archive[name], device) for name in archive.files}
    # The guide's wording: the deserialized function "can later be rehydrated and called from
    # another JAX computation". jax.jit compiles it at the first call.
    return jax.jit(exported.call), params


def original(params, x, artifact, reloaded, reference):
    return predict_jit(params, x)


def export_round_trip(params, x, artifact, reloaded, reference):
    # Export and serialize (program and weights to bytes), then load and call as
    # load_and_call, below, does.
    return load_and_call(params, x, save(params, x), reloaded, reference)


def load_and_call(params, x, artifact, reloaded, reference):
    # A serving process's start: from the artifact's bytes to a first result. The original's
    # output (reference) was computed in setup, outside the timing.
    call, weights = load(artifact, x.device)
    return {"artifact_bytes": sum(len(part) for part in artifact),
            "original": reference, "reloaded": call(weights, x)}


def reloaded_call(params, x, artifact, reloaded, reference):
    call, weights = reloaded
    return call(weights, x)


def numbers(values):
    return " ".join(f"{value:.6f}" for value in values.tolist())


def show(result):
    if isinstance(result, dict):
        difference = jnp.max(jnp.abs(result["reloaded"] - result["original"]))
        print(f"artifact: {result['artifact_bytes']:,} bytes")
        print(f"max |reloaded - original| = {float(difference):.3g}")
        result = result["reloaded"]
    print(f"output {result.shape}; row 0, first 4: {numbers(result[0, :4])}")
