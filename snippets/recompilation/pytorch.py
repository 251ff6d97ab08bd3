"""PyTorch: torch.compile guards each graph on its input shapes and recompiles when a guard fails.
By default the second shape brings a symbolic length; dynamic=True makes every size symbolic at
once; dynamic=False: a graph per shape up to the recompile limit (8), then new shapes run eager."""

import torch


def setup(inputs, device):
    names = sorted(name for name in inputs if name.startswith("seq"))
    sequences = [torch.from_numpy(inputs[name]).to(device) for name in names]
    w = torch.from_numpy(inputs["w"]).to(device)
    v = torch.from_numpy(inputs["v"]).to(device)
    return sequences, w, v


def pool(x, w, v):
    h = torch.tanh(x @ w)  # (length, 64)
    p = torch.softmax(h @ v, dim=0)  # one weight per row of the sequence
    return p @ h  # (64,)


# torch.compile keeps compiled graphs, and counts recompilations, per code object: each
# setting gets its own small function, so that the three do not share one cache.
@torch.compile  # dynamic=None (default): automatic dynamic shapes
def pool_default(x, w, v):
    return pool(x, w, v)


@torch.compile(dynamic=True)
def pool_dynamic(x, w, v):
    return pool(x, w, v)


@torch.compile(dynamic=False)
def pool_specialized(x, w, v):
    return pool(x, w, v)


def static(sequences, w, v):
    return [pool_default(x, w, v) for x in sequences]


def dynamic(sequences, w, v):
    return [pool_dynamic(x, w, v) for x in sequences]


def specialized(sequences, w, v):
    return [pool_specialized(x, w, v) for x in sequences]


def show(result):
    print(f"{len(result)} pooled vectors of shape {tuple(result[0].shape)}, {result[0].dtype}")
    print("first:", result[0][:4])
