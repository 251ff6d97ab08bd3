"""PyTorch: gather the source rows with index_select, then sum them into the destination nodes
with index_add_, or scatter_reduce_ over a broadcast index as PyG's scatter does; torch.compile
compiles the step with TorchInductor."""

import torch


def setup(inputs, device):
    x = torch.from_numpy(inputs["x"]).to(device)
    # int64 is PyTorch's index dtype (PyG's edge_index); scatter_reduce_ requires it.
    src = torch.from_numpy(inputs["src"]).to(device=device, dtype=torch.int64)
    dst = torch.from_numpy(inputs["dst"]).to(device=device, dtype=torch.int64)
    return x, src, dst


def index_add(x, src, dst):
    messages = x.index_select(0, src)  # (edges, features): each edge's source node features
    return torch.zeros_like(x).index_add_(0, dst, messages)  # repeated indices accumulate


def segment_sum(x, src, dst):
    messages = x.index_select(0, src)
    index = dst.view(-1, 1).expand_as(messages)  # scatter wants an index per element; a view
    return torch.zeros_like(x).scatter_reduce_(0, index, messages, reduce="sum",
                                               include_self=False)


compiled = torch.compile(index_add)


def show(out):
    first = ", ".join(f"{value:.4f}" for value in out[0, :3].tolist())
    print(f"out: {tuple(out.shape)} {out.dtype}; out[0, :3] = [{first}]")
