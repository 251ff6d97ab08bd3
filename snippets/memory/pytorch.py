"""PyTorch with torch.optim: one SGD step of a stack of residual MLP blocks (an nn.ModuleList),
run eagerly, as the torch.utils.checkpoint documentation applies it. Three ways to keep what the
backward pass needs:

- no checkpointing: autograd keeps what each operator's backward formula saves;
- each block checkpointed whole, torch.utils.checkpoint.checkpoint(..., use_reentrant=False):
  the forward pass keeps only each block's input, and the backward pass recomputes the rest;
- selective activation checkpointing, as in the documentation's example of
  create_selective_checkpoint_contexts: a policy that saves the matrix products' results (nn.Linear
  runs aten.addmm here; aten.mm as in the example) and recomputes everything else.

preserve_rng_state=False: the blocks draw no random numbers, so there is no RNG state to stash
and restore."""

import functools

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.checkpoint import (
    CheckpointPolicy,
    checkpoint,
    create_selective_checkpoint_contexts,
)

PARAMETERS = ("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias")
OPS_TO_SAVE = (torch.ops.aten.mm.default, torch.ops.aten.addmm.default)


def policy_fn(ctx, op, *args, **kwargs):
    if op in OPS_TO_SAVE:
        return CheckpointPolicy.MUST_SAVE
    return CheckpointPolicy.PREFER_RECOMPUTE


class Block(nn.Module):
    def __init__(self, features, hidden):
        super().__init__()
        self.fc1 = nn.Linear(features, hidden)
        self.fc2 = nn.Linear(hidden, features)

    def forward(self, h):
        return h + self.fc2(F.gelu(self.fc1(h)))


class ResidualMLP(nn.Module):
    def __init__(self, blocks, features, hidden):
        super().__init__()
        self.blocks = nn.ModuleList(Block(features, hidden) for _ in range(blocks))

    def forward(self, h, checkpointing=None):
        for block in self.blocks:
            if checkpointing == "block":
                h = checkpoint(block, h, use_reentrant=False, preserve_rng_state=False)
            elif checkpointing == "policy":
                h = checkpoint(
                    block,
                    h,
                    use_reentrant=False,
                    preserve_rng_state=False,
                    context_fn=functools.partial(create_selective_checkpoint_contexts, policy_fn),
                )
            else:
                h = block(h)
        return h


def setup(inputs, device):
    blocks, hidden, features = inputs["fc1.weight"].shape
    model = ResidualMLP(blocks, features, hidden).to(device)
    # The starting weights, the same as the JAX side's (stacked there), one block at a time;
    # loaded into the model at every call.
    initial = {
        f"blocks.{i}.{name}": torch.from_numpy(inputs[name][i]).to(device)
        for i in range(blocks)
        for name in PARAMETERS
    }
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x = torch.from_numpy(inputs["x"]).to(device)
    y = torch.from_numpy(inputs["y"]).to(device)
    return model, optimizer, initial, x, y


def train_step(model, optimizer, x, y, checkpointing):
    loss = F.mse_loss(model(x, checkpointing=checkpointing), y)
    value = loss.detach()  # the loss, without its autograd graph
    loss.backward()
    optimizer.step()
    # Release the gradients now rather than at the next step's start: no tensor of this call
    # outlives it, as the JAX side's gradients are temporaries of its program, and the next
    # call starts from the same state whatever ran before it.
    optimizer.zero_grad(set_to_none=True)
    return value


def run(model, optimizer, initial, x, y, checkpointing):
    model.load_state_dict(initial)  # back to the starting weights (copied in place)
    loss = train_step(model, optimizer, x, y, checkpointing)
    with torch.no_grad():  # the updated weights, stacked over the blocks as in inputs.py
        params = {
            name: torch.stack([block.get_parameter(name) for block in model.blocks])
            for name in PARAMETERS
        }
    return {"loss": loss, "params": params}


def step(model, optimizer, initial, x, y):
    return run(model, optimizer, initial, x, y, checkpointing=None)


def step_remat(model, optimizer, initial, x, y):
    return run(model, optimizer, initial, x, y, checkpointing="block")


def step_policy(model, optimizer, initial, x, y):
    return run(model, optimizer, initial, x, y, checkpointing="policy")


# The first two steps again, each run once in a new process, where the memory figure is the
# resident memory the process adds.
step_fresh = step
step_remat_fresh = step_remat


def show(result):
    print(f"loss before the step: {result['loss']:.6f}")
    first = result["params"]["fc2.bias"][-1, :4].tolist()
    print("last block's fc2.bias after one SGD step, first 4:", " ".join(f"{v:.6f}" for v in first))
