"""The shared data: an MLP's starting weights (32 -> 256 -> 256 -> 10), named and laid out as
torch.nn.Linear stores them (weight is (out_features, in_features)), drawn first, so the same for
every batch size; then a batch of `size` points in 32 dimensions from 10 overlapping clusters,
with their labels."""

import numpy as np

FEATURES, HIDDEN, CLASSES = 32, 256, 10


def make_inputs(size):
    rng = np.random.default_rng(seed=0)
    inputs = {}
    # torch.nn.Linear's default initialization: uniform in +-1/sqrt(in_features).
    layers = (("fc1", FEATURES, HIDDEN), ("fc2", HIDDEN, HIDDEN), ("fc3", HIDDEN, CLASSES))
    for layer, fan_in, fan_out in layers:
        bound = 1 / np.sqrt(fan_in)
        weight = rng.uniform(-bound, bound, (fan_out, fan_in))
        inputs[f"{layer}.weight"] = weight.astype(np.float32)
        inputs[f"{layer}.bias"] = rng.uniform(-bound, bound, fan_out).astype(np.float32)
    centres = rng.standard_normal((CLASSES, FEATURES))
    labels = rng.integers(0, CLASSES, size)  # int64, as cross_entropy expects
    x = 0.5 * centres[labels] + rng.standard_normal((size, FEATURES))  # clusters overlap
    inputs["x"] = x.astype(np.float32)
    inputs["labels"] = labels
    return inputs
