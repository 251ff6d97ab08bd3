"""PyTorch: in eager mode each operation goes through the dispatcher to its own kernel;
torch.compile captures the whole chain with TorchDynamo and Inductor generates fused code for it."""

import torch


def setup(inputs, device):
    x = torch.from_numpy(inputs["x"]).to(device)
    a = torch.from_numpy(inputs["a"]).to(device)
    b = torch.from_numpy(inputs["b"]).to(device)
    return x, a, b, int(inputs["ops"])  # the op count shapes the program, so it is a Python int


def eager(x, a, b, ops):
    y = x
    for _ in range(ops // 2):  # each step is two operations: a multiply and an add
        y = y * a + b
    return y


# Dynamo specializes on the int ops: it unrolls the Python loop while tracing, and Inductor
# fuses the chain.
compiled = torch.compile(eager)


def show(y):
    print(f"y: {tuple(y.shape)} {y.dtype}, y[:4] = {y[:4].tolist()}")
