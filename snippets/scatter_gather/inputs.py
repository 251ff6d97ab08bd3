"""The shared data: a random directed graph with `edges` edges on edges // 10 nodes (ten
incoming edges per node on average) and 32 float32 features per node."""

import numpy as np

FEATURES = 32


def make_inputs(size):
    rng = np.random.default_rng(seed=0)
    num_nodes = size // 10
    x = rng.standard_normal((num_nodes, FEATURES), dtype=np.float32)
    # Edge e carries node src[e]'s features to node dst[e]; unsorted, repeats allowed.
    src = rng.integers(0, num_nodes, size=size, dtype=np.int32)
    dst = rng.integers(0, num_nodes, size=size, dtype=np.int32)
    return {"x": x, "src": src, "dst": dst}
