"""PyTorch: the MLP as an nn.Module. torch.export traces its forward pass to an ExportedProgram
of ATen operations; torch.export.save writes it, with the weights, to a .pt2 archive (in
memory here); torch.export.load reads it back, and .module() gives a callable module that
runs the graph eagerly, checking its input at every call."""

import io
import re
import zipfile

import torch
import torch.nn.functional as F
from torch import nn


class MLP(nn.Module):
    def __init__(self, in_features, hidden, outputs):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden)
        self.fc2 = nn.Linear(hidden, outputs)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


def setup(inputs, device):
    hidden, in_features = inputs["fc1.weight"].shape
    model = MLP(in_features, hidden, inputs["fc2.weight"].shape[0]).to(device)
    # The same weights as the JAX side's.
    model.load_state_dict({name: torch.from_numpy(inputs[name]) for name in model.state_dict()})
    model.eval()  # export the forward pass as it serves (no dropout or batch norm here)
    x = torch.from_numpy(inputs["x"]).to(device)
    # Exported and loaded once here for the rows that start from a saved artifact.
    artifact = save(model, x)
    print_parts(artifact)
    print(f"float32 weights alone: {sum(p.nbytes for p in model.parameters()):,} bytes")
    reloaded = load(artifact)
    # What the reloaded module runs at each call, from its generated forward().
    steps = re.findall(r"\b(tree_flatten_spec|_guards_fn|aten\.\w+|tree_unflatten)(?:\.\w+)?\(",
                       reloaded.code)
    print(f"reloaded module's forward(): {' -> '.join(steps)}")
    print(f"forward pre-hooks: {hook_names(reloaded._forward_pre_hooks)}; "
          f"forward hooks: {hook_names(reloaded._forward_hooks)}")
    # The original's output, computed once here: the loading rows compare with it.
    with torch.inference_mode():
        reference = model(x)
    return model, x, artifact, reloaded, reference


def hook_names(hooks):
    return ", ".join(getattr(hook, "__name__", type(hook).__name__) for hook in hooks.values())


def print_parts(artifact):
    # The .pt2 is a ZIP archive: the weights, the example input that torch.export.export was
    # given, and the rest (the graph as JSON, configuration, ZIP headers).
    with zipfile.ZipFile(io.BytesIO(artifact)) as archive:
        entries = archive.infolist()
    weights = sum(e.file_size for e in entries if re.search(r"/data/weights/weight_\d+$",
                                                             e.filename))
    example = sum(e.file_size for e in entries if "/data/sample_inputs/" in e.filename)
    print(f"artifact: {len(artifact):,} bytes (.pt2 archive) = weights {weights:,} "
          f"+ example input {example:,} + graph, metadata and ZIP structure "
          f"{len(artifact) - weights - example:,}")


def save(model, x):
    # torch.export traces forward() for x's shape and dtype (non-strict, the default) into a
    # graph of ATen operations; torch.export.save writes it, the weights and the example input.
    exported = torch.export.export(model, (x,))
    buffer = io.BytesIO()
    torch.export.save(exported, buffer)
    return buffer.getvalue()


def load(artifact):
    # .module(): a GraphModule that runs the graph eagerly; at each call it flattens the
    # inputs, checks them (guards and an input-checking hook) and unflattens the output.
    return torch.export.load(io.BytesIO(artifact)).module()


# The model calls run under inference_mode, as a server runs them: autograd records nothing.
@torch.inference_mode()
def original(model, x, artifact, reloaded, reference):
    return model(x)


def export_round_trip(model, x, artifact, reloaded, reference):
    # Export and save (program and weights to bytes), then load and call as
    # load_and_call, below, does.
    return load_and_call(model, x, save(model, x), reloaded, reference)


@torch.inference_mode()
def load_and_call(model, x, artifact, reloaded, reference):
    # A serving process's start: from the artifact's bytes to a first result. The original's
    # output (reference) was computed in setup, outside the timing.
    module = load(artifact)
    return {"artifact_bytes": len(artifact), "original": reference, "reloaded": module(x)}


@torch.inference_mode()
def reloaded_call(model, x, artifact, reloaded, reference):
    return reloaded(x)


def numbers(values):
    return " ".join(f"{value:.6f}" for value in values.tolist())


def show(result):
    if isinstance(result, dict):
        difference = (result["reloaded"] - result["original"]).abs().max()
        print(f"artifact: {result['artifact_bytes']:,} bytes")
        print(f"max |reloaded - original| = {float(difference):.3g}")
        result = result["reloaded"]
    print(f"output {tuple(result.shape)}; row 0, first 4: {numbers(result[0, :4])}")
