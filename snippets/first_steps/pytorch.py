"""PyTorch: a layer object owns its parameters, and backward() fills in their .grad."""

import torch
from torch import nn


def setup(inputs, device):
    model = nn.Linear(10, 1).to(device)
    with torch.no_grad():  # start from the same weights as the JAX side
        model.weight.copy_(torch.from_numpy(inputs["weight"]))
        model.bias.copy_(torch.from_numpy(inputs["bias"]))
    x = torch.from_numpy(inputs["x"]).to(device)
    y = torch.from_numpy(inputs["y"]).to(device)
    return model, x, y


loss_fn = nn.MSELoss()


def forward_and_grad(model, x, y):
    model.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    return {"loss": loss, "weight": model.weight.grad, "bias": model.bias.grad}


@torch.compile  # the forward pass and the loss; backward() then runs the gradient graph
def compiled_loss(model, x, y):  # that AOTAutograd compiled with them
    return loss_fn(model(x), y)


def compiled(model, x, y):
    model.zero_grad()
    loss = compiled_loss(model, x, y)
    loss.backward()
    return {"loss": loss, "weight": model.weight.grad, "bias": model.bias.grad}


def show(result):
    print("loss:", result["loss"])
    print("d loss / d weight:", result["weight"])
    print("d loss / d bias:", result["bias"])
