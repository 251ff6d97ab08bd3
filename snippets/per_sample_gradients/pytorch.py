"""PyTorch: as the per-sample-gradients tutorial teaches, a loop of forward and backward passes
(torch.autograd.grad) over single examples, and torch.func.vmap over torch.func.grad of a
functional_call of the model, eager and under torch.compile."""

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad, vmap

PARAMETERS = ("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias")


class MLP(nn.Module):
    def __init__(self, in_features, hidden, classes):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden)
        self.fc2 = nn.Linear(hidden, classes)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


def setup(inputs, device):
    hidden, in_features = inputs["fc1.weight"].shape
    model = MLP(in_features, hidden, inputs["fc2.weight"].shape[0]).to(device)
    # Start from the same weights as the JAX side.
    model.load_state_dict({name: torch.from_numpy(inputs[name]) for name in PARAMETERS})
    # torch.func works on the parameters as a dict of plain tensors, detached from autograd.
    params = {name: p.detach() for name, p in model.named_parameters()}
    x = torch.from_numpy(inputs["x"]).to(device)
    labels = torch.from_numpy(inputs["labels"]).to(device)
    return model, params, x, labels


def loop(model, params, x, labels):
    """The baseline: one forward and one backward pass per example."""
    per_example = []
    for sample, label in zip(x, labels, strict=True):
        loss = F.cross_entropy(model(sample.unsqueeze(0)), label.unsqueeze(0))
        per_example.append(torch.autograd.grad(loss, list(model.parameters())))
    stacked = [torch.stack(shards) for shards in zip(*per_example, strict=True)]
    return dict(zip(params, stacked, strict=True))  # the names of model.named_parameters()


def loss_of_one(params, model, sample, label):
    # The model is written for batches: give it a batch of one.
    logits = functional_call(model, params, (sample.unsqueeze(0),))
    return F.cross_entropy(logits, label.unsqueeze(0))


# grad differentiates the loss of one example; vmap maps it over the batch dimension.
per_sample_grads = vmap(grad(loss_of_one), in_dims=(None, None, 0, 0))


def vmapped(model, params, x, labels):
    return per_sample_grads(params, model, x, labels)


compiled = torch.compile(vmapped)


def show(grads):
    for name, g in grads.items():
        print(f"{name}: {tuple(g.shape)}")
    # What DP-SGD clips: the norm of each example's whole gradient.
    norms = torch.sqrt(sum(g.flatten(1).pow(2).sum(1) for g in grads.values()))
    print("per-example gradient norms:", norms.tolist())
