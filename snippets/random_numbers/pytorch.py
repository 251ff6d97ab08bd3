"""PyTorch: a random function draws from a stateful generator (the global one that
torch.manual_seed seeds, or a torch.Generator of one's own) and advances it; torch.compile turns
the draw into an Inductor kernel with its own random numbers, seeded from the global generator."""

import torch


def first(x):  # the first three values, rounded for printing
    return [round(v, 4) for v in x[:3].tolist()]


def setup(inputs, device):
    seed = int(inputs["seed"])
    # Determinism: generators seeded alike give the same numbers ...
    g1 = torch.Generator(device).manual_seed(seed)
    g2 = torch.Generator(device).manual_seed(seed)
    print("same seed, two generators:", first(torch.randn(3, generator=g1, device=device)),
          first(torch.randn(3, generator=g2, device=device)))
    # ... and each draw advances a generator's state, so its next draw gives new numbers.
    print("the next draw of one:     ", first(torch.randn(3, generator=g1, device=device)))
    torch.manual_seed(seed)  # seeds the global generator of every device, used below
    return int(inputs["n"]), device


def eager(n, device):
    return torch.randn(n, dtype=torch.float32, device=device)


# Draws from the global generator: with a torch.Generator argument, TorchDynamo would break
# the graph at the draw and leave it to eager PyTorch.
compiled = torch.compile(eager)


def show(sample):
    print(f"{sample.shape[0]} normals: first three {first(sample)}, "
          f"mean {sample.mean().item():+.4f}, std {sample.std(correction=0).item():.4f}")
