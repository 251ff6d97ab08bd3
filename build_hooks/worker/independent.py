"""Independent timers, for `make validate` only: the tools experts already trust, run in the
same worker on the same prepared call as the harness, so their medians can be compared.

- PyTorch: `torch.utils.benchmark.Timer.blocked_autorange`, with the harness's thread count
  (Timer's own default is one thread). It synchronises CUDA per block, not per call.
- JAX: `timeit.Timer` with `jax.block_until_ready` on every call (the JAX FAQ's recipe),
  `autorange` for the loop size, then several repeats.
"""

from __future__ import annotations

import timeit
from collections.abc import Callable
from typing import Any

from build_hooks.core import stats


def torch_benchmark(call: Callable[[], Any], min_run_time: float) -> float:
    import torch
    from torch.utils import benchmark

    timer = benchmark.Timer(stmt="call()", globals={"call": call},
                            num_threads=torch.get_num_threads())
    return timer.blocked_autorange(min_run_time=min_run_time).median


def jax_timeit(call: Callable[[], Any], repeats: int = 7) -> float:
    import jax

    timer = timeit.Timer(lambda: jax.block_until_ready(call()))
    number, _ = timer.autorange()
    return stats.median([t / number for t in timer.repeat(repeat=repeats, number=number)])


def independent_median(framework: str, call: Callable[[], Any], min_run_time: float) -> float:
    if framework == "pytorch":
        return torch_benchmark(call, min_run_time)
    return jax_timeit(call)
