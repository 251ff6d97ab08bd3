"""PyTorch: tensors are mutable, so `x[i] = v` writes one element in place, and `index_put`
writes all of them in one call. Each function updates a clone, because x belongs to the caller;
torch.compile compiles the loop and the scatter with TorchInductor."""

import torch


def setup(inputs, device):
    x = torch.from_numpy(inputs["x"]).to(device)
    values = torch.from_numpy(inputs["values"]).to(device)
    # int64 is PyTorch's index dtype.
    index = torch.from_numpy(inputs["index"]).to(device=device, dtype=torch.int64)
    # A Python loop indexes with Python ints: the same positions, on the host.
    positions = tuple(inputs["index"].tolist())
    return x, positions, values, index


def loop(x, positions, values, index):
    x = x.clone()  # one copy, then every update is in place
    for i, v in zip(positions, values):
        x[i] = v  # writes one element of x
    return x


# Dynamo unrolls the loop (the positions become constants guarded by value), and Inductor
# generates code for the whole of it.
compiled = torch.compile(loop)


def vectorized(x, positions, values, index):
    return x.index_put((index,), values)  # a new tensor: a clone of x, all updates in one scatter


# Inductor generates one copy of x and 32 stores through the index (TORCH_LOGS=output_code).
vectorized_compiled = torch.compile(vectorized)


def show(out):
    first = ", ".join(f"{value:.4f}" for value in out[:4].tolist())
    print(f"out: {tuple(out.shape)} {out.dtype}; out[:4] = [{first}]")
