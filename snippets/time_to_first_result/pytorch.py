"""PyTorch with torch.optim: the training step of the torch.compile end-to-end tutorial
(zero_grad, forward, loss, backward, optimizer.step) compiled with torch.compile, and one call
of it from the initial weights: the first result a training script waits for."""

import torch
import torch.nn.functional as F
from torch import nn


class MLP(nn.Module):
    def __init__(self, in_features, hidden, classes):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.fc3 = nn.Linear(hidden, classes)

    def forward(self, x):
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


def setup(inputs, device):
    hidden, in_features = inputs["fc1.weight"].shape
    model = MLP(in_features, hidden, inputs["fc3.weight"].shape[0]).to(device)
    # The starting weights, the same as the JAX side's.
    model.load_state_dict({name: torch.from_numpy(inputs[name]) for name in model.state_dict()})
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)  # betas=(0.9, 0.999), eps=1e-8
    x = torch.from_numpy(inputs["x"]).to(device)
    labels = torch.from_numpy(inputs["labels"]).to(device)
    return model, optimizer, x, labels


# TorchDynamo captures the forward pass and the loss as one graph (AOTAutograd derives its
# backward graph, Inductor compiles both), breaks the graph at backward(), and captures
# optimizer.step() as another graph.
@torch.compile
def train_step(model, optimizer, x, labels):
    optimizer.zero_grad()
    loss = F.cross_entropy(model(x), labels)
    value = loss.detach()  # taken in the forward graph: after step() it would be a third graph
    loss.backward()
    optimizer.step()
    return value


def first_step(model, optimizer, x, labels):
    loss = train_step(model, optimizer, x, labels)
    return {"loss": loss, "params": model.state_dict()}


# The same step in the three rows: in a new process whose persistent compilation cache has
# never seen this step or was filled by an earlier process (the harness sets the cache up), and
# in a process that runs it repeatedly.
cold = warm = steady = first_step


def show(result):
    print(f"loss before the step: {result['loss']:.6f}")
    first = result["params"]["fc3.bias"][:4].tolist()
    print("fc3.bias after one Adam step, first 4:", " ".join(f"{v:.6f}" for v in first))
