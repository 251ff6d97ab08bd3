"""The shared data: the starting weights of a two-layer MLP (64 -> 128 -> 10), named and laid out
as torch.nn.Linear stores them (weight is (out_features, in_features)), then a batch of inputs
and integer class labels. The weights are drawn first, so they are the same for every batch size."""

import numpy as np

IN_FEATURES, HIDDEN, CLASSES = 64, 128, 10


def make_inputs(size):
    rng = np.random.default_rng(seed=0)
    inputs = {}
    # torch.nn.Linear's default initialization: uniform in +-1/sqrt(in_features).
    for layer, fan_in, fan_out in (("fc1", IN_FEATURES, HIDDEN), ("fc2", HIDDEN, CLASSES)):
        bound = 1 / np.sqrt(fan_in)
        weight = rng.uniform(-bound, bound, (fan_out, fan_in))
        inputs[f"{layer}.weight"] = weight.astype(np.float32)
        inputs[f"{layer}.bias"] = rng.uniform(-bound, bound, fan_out).astype(np.float32)
    inputs["x"] = rng.standard_normal((size, IN_FEATURES), dtype=np.float32)
    inputs["labels"] = rng.integers(0, CLASSES, size)  # int64, as cross_entropy expects
    return inputs
