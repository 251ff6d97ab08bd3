"""The training_step topic's data and starting weights: 512 points in 32 dimensions in 10
overlapping clusters, then an MLP's weights (32 -> hidden -> hidden -> 10), named and laid out
as torch.nn.Linear stores them (weight is (out_features, in_features))."""

import numpy as np

SAMPLES, FEATURES, CLASSES = 512, 32, 10


def make_inputs(size):
    rng = np.random.default_rng(seed=0)
    centres = rng.standard_normal((CLASSES, FEATURES))
    labels = rng.integers(0, CLASSES, SAMPLES)  # int64, as cross_entropy expects
    x = 0.5 * centres[labels] + rng.standard_normal((SAMPLES, FEATURES))  # clusters overlap
    inputs = {"x": x.astype(np.float32), "labels": labels}
    # torch.nn.Linear's default initialization: uniform in +-1/sqrt(in_features).
    layers = (("fc1", FEATURES, size), ("fc2", size, size), ("fc3", size, CLASSES))
    for layer, fan_in, fan_out in layers:
        bound = 1 / np.sqrt(fan_in)
        weight = rng.uniform(-bound, bound, (fan_out, fan_in))
        inputs[f"{layer}.weight"] = weight.astype(np.float32)
        inputs[f"{layer}.bias"] = rng.uniform(-bound, bound, fan_out).astype(np.float32)
    return inputs
