"""PyTorch, two styles: loss.backward() accumulates each gradient into its parameter's .grad
(eager, and with the forward pass and loss under torch.compile, whose backward graph AOTAutograd
compiles with them); torch.func.grad_and_value returns the gradients of a functional_call."""

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad_and_value


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 512)
        self.fc2 = nn.Linear(512, 512)
        self.fc3 = nn.Linear(512, 10)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def setup(inputs, device):
    model = MLP().to(device)
    # Start from the same weights as the JAX side.
    model.load_state_dict({name: torch.from_numpy(inputs[name]) for name in model.state_dict()})
    # torch.func works on the parameters as a dict of plain tensors, detached from autograd.
    params = {name: p.detach() for name, p in model.named_parameters()}
    x = torch.from_numpy(inputs["x"]).to(device)
    labels = torch.from_numpy(inputs["labels"]).to(device)
    return model, params, x, labels  # eager and compiled use the model's own parameters


def loss_fn(model, x, labels):  # mean cross-entropy over the batch
    return F.cross_entropy(model(x), labels)


# Style 1: autograd records the forward pass; backward() writes each parameter's .grad.
def backward_step(compute_loss, model, x, labels):
    model.zero_grad()  # set_to_none=True (the default): backward() stores fresh .grad tensors
    loss = compute_loss(model, x, labels)
    loss.backward()
    return loss.detach(), {name: p.grad for name, p in model.named_parameters()}


def eager(model, params, x, labels):
    return backward_step(loss_fn, model, x, labels)


# The forward pass and the loss are compiled; AOTAutograd traces their backward graph with them,
# and loss.backward() runs that compiled backward graph from the autograd engine.
compiled_loss_fn = torch.compile(loss_fn)


def compiled(model, params, x, labels):
    return backward_step(compiled_loss_fn, model, x, labels)


# Style 2: a pure function of the parameters, differentiated by a transform (as jax.grad does).
def functional_loss(params, model, x, labels):
    return F.cross_entropy(functional_call(model, params, (x,)), labels)


loss_and_grads = grad_and_value(functional_loss)  # returns (grads, loss), grads a dict like params


def func_eager(model, params, x, labels):
    grads, loss = loss_and_grads(params, model, x, labels)
    return loss, grads


func_compiled = torch.compile(func_eager)  # Dynamo traces through grad_and_value: one graph


def show(result):
    loss, grads = result
    print(f"loss: {float(loss):.6f}")
    for name, g in grads.items():
        print(f"d loss / d {name}: shape {tuple(g.shape)}, norm {float(torch.linalg.norm(g)):.6f}")
