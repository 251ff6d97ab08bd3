"""PyTorch with torch.optim, as the torch.compile end-to-end tutorial writes a training step
(zero_grad, forward, loss, backward, optimizer.step), run eagerly and compiled whole with
torch.compile."""

import torch
import torch.nn.functional as F
from torch import nn

STEPS = 10  # Adam steps per call, on the whole data set each time


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
    # The starting weights, the same as the JAX side's; loaded into the model at every call.
    initial = {name: torch.from_numpy(inputs[name]).to(device) for name in model.state_dict()}
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)  # betas=(0.9, 0.999), eps=1e-8
    x = torch.from_numpy(inputs["x"]).to(device)
    labels = torch.from_numpy(inputs["labels"]).to(device)
    return model, optimizer, initial, x, labels


def train_step(model, optimizer, x, labels):
    optimizer.zero_grad()
    loss = F.cross_entropy(model(x), labels)
    value = loss.detach()  # the loss for the curve, taken in the forward graph
    loss.backward()
    optimizer.step()
    return value


# The whole step: TorchDynamo captures the forward pass and the loss as one graph (AOTAutograd
# derives its backward graph, Inductor compiles both), breaks the graph at backward(), and
# captures optimizer.step() as a second graph.
compiled_step = torch.compile(train_step)


@torch.no_grad()
def restart(model, optimizer, initial):
    """Back to the starting weights and a fresh Adam state, reusing the same tensors (new
    tensors, or a new model or optimizer, would make torch.compile compile again)."""
    model.load_state_dict(initial)  # copies into the existing parameters
    for state in optimizer.state.values():  # empty before the first step
        for value in state.values():  # step, exp_avg, exp_avg_sq: zero, as Adam creates them
            value.zero_()


def train(step, model, optimizer, initial, x, labels):
    restart(model, optimizer, initial)
    losses = [step(model, optimizer, x, labels) for _ in range(STEPS)]
    return torch.stack(losses)  # the loss before each step: the loss curve


def eager(model, optimizer, initial, x, labels):
    return train(train_step, model, optimizer, initial, x, labels)


def compiled(model, optimizer, initial, x, labels):
    return train(compiled_step, model, optimizer, initial, x, labels)


def show(losses):
    print(f"loss over {STEPS} Adam steps:")
    print(" ".join(f"{loss:.4f}" for loss in losses.tolist()))
