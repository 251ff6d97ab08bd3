"""PyTorch: the same chain of four matrix products in float32 at PyTorch's default matmul
precision, "highest" (true float32), and with TF32 switched on for one call (it only affects
CUDA), then in float64 and in bfloat16."""

import numpy as np
import torch

reference = {}  # the float64 NumPy result from inputs.py, kept by setup for show() only


def setup(inputs, device):
    reference["y"] = inputs["reference"]
    print(f"process-wide: torch.get_float32_matmul_precision()="
          f"{torch.get_float32_matmul_precision()!r}")
    x = torch.from_numpy(inputs["x"]).to(device)
    weights = [torch.from_numpy(w).to(device) for w in inputs["weights"]]
    return {name: (x.to(dtype), [w.to(dtype) for w in weights])
            for name, dtype in (("float32", torch.float32), ("float64", torch.float64),
                                ("bfloat16", torch.bfloat16))}


def chain(x, weights):
    for w in weights:
        x = x @ w
    return x


def float32_highest(arrays):
    return chain(*arrays["float32"])


def float32_tf32(arrays):
    # TF32 is a process-wide switch in PyTorch (CUDA notes): on for this call, then back.
    # Like JAX's default precision it only affects CUDA; on a CPU this is IEEE float32.
    previous = torch.backends.cuda.matmul.fp32_precision
    torch.backends.cuda.matmul.fp32_precision = "tf32"
    try:
        return chain(*arrays["float32"])
    finally:
        torch.backends.cuda.matmul.fp32_precision = previous


def float64(arrays):
    return chain(*arrays["float64"])


def bfloat16(arrays):
    return chain(*arrays["bfloat16"])


def show(y):
    error = np.linalg.norm(y.double().cpu().numpy() - reference["y"]) \
        / np.linalg.norm(reference["y"])
    print(f"{y.dtype} result {tuple(y.shape)}: relative error {error:.2e} against the float64 "
          f"reference (machine epsilon of {y.dtype}: {torch.finfo(y.dtype).eps:.1e})")
