"""The machine probe: what this machine can do at best, measured by each framework.

Two kernels whose limits are well understood, run in the worker on the topics' device:

- a large float32 matrix product (2 n^3 FLOPs): the compute bound, in GFLOP/s;
- a STREAM-style scale, y = 2 x over an array far larger than the caches: the memory bound, in
  GB/s, counting the bytes read plus the bytes written (STREAM's convention).

Each is called once untimed (compilation, first-touch of the pages), then `repeats` times, each
call waited for; the best call is the probe's figure (the attainable peak, as STREAM reports
it), and every sample is kept. The site takes the better framework's figure as the machine's
bound, so both sides of a topic are measured against the same yardstick.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np


def _timed(call: Callable[[], Any], wait: Callable[[Any], None], repeats: int) -> list[float]:
    wait(call())  # compile, and touch every page once
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        wait(call())
        samples.append(time.perf_counter() - start)
    return samples


def _result(kind: str, work: float, unit: str, samples: list[float], **details: Any
            ) -> dict[str, Any]:
    best = min(samples)
    return {"kind": kind, "best_s": best, "samples_s": samples,
            "rate": work / best / 1e9, "unit": unit, **details}


def run_probe(framework: str, adapter: Any, matmul_n: int, copy_mib: int,
              repeats: int) -> dict[str, Any]:
    """Both kernels on `framework` (the worker's adapter gives the device and the wait)."""
    rng = np.random.default_rng(0)
    host = (rng.standard_normal((matmul_n, matmul_n), dtype=np.float32),
            rng.standard_normal((matmul_n, matmul_n), dtype=np.float32),
            np.ones(copy_mib * (1 << 20) // 4, dtype=np.float32))
    a: Any
    b: Any
    x: Any
    if framework == "jax":
        import jax

        a, b, x = (jax.device_put(v, adapter.device) for v in host)
        matmul = jax.jit(lambda p, q: p @ q)  # full float32: the worker pins "highest"
        # The input's buffer is donated and the result fed back: no new 256 MiB buffer (and
        # its page faults) per call, as PyTorch's out= has none.
        scale = jax.jit(lambda v: v * 2.0, donate_argnums=0)
        state = {"x": x}

        def scaled() -> Any:
            state["x"] = scale(state["x"])
            return state["x"]

        calls = (lambda: matmul(a, b)), scaled
        how = ("jax.jit(lambda a, b: a @ b)",
               "x = jax.jit(lambda x: x * 2.0, donate_argnums=0)(x)")
    else:
        import torch

        a, b, x = (torch.from_numpy(v).to(adapter.device) for v in host)
        c, y = torch.empty_like(a), torch.empty_like(x)
        calls = (lambda: torch.mm(a, b, out=c)), (lambda: torch.mul(x, 2.0, out=y))
        how = ("torch.mm(a, b, out=c)", "torch.mul(x, 2.0, out=y)")
    compute = _timed(calls[0], adapter.block, repeats)
    memory = _timed(calls[1], adapter.block, repeats)
    nbytes = host[2].nbytes
    return {
        "compute": _result("compute", 2.0 * matmul_n ** 3, "GFLOP/s", compute,
                           n=matmul_n, call=how[0]),
        "memory": _result("memory", 2.0 * nbytes, "GB/s", memory, bytes=nbytes,
                          call=how[1]),
    }
