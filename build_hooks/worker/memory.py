"""Peak memory of one call, for topics that declare `peak_memory = true`.

Every figure is the memory the call adds at its peak (its outputs and temporaries, not the
arguments it was given), with the method that produced it, because the frameworks expose
different instruments:

- JAX, a jitted function: XLA's buffer assignment, `jitted.lower(*args).compile()
  .memory_analysis()`: temporaries plus outputs, less aliased outputs (static: what the compiled
  program allocates beyond its arguments, on any device; an upper bound on its peak, since an
  output may be allocated after temporaries are freed).
- PyTorch on CUDA: the caching allocator's `torch.cuda.max_memory_allocated()` after
  `reset_peak_memory_stats()`, less what was allocated before the call.
- PyTorch on the CPU: `torch.profiler.profile(profile_memory=True)`: the running total of the
  allocator's events (allocations and frees, each at its own time); its maximum.
- Both, in a fresh process (the measure the two sides share): the peak resident set size during
  the first call over the resident size just before it (Linux: VmHWM, reset through
  /proc/self/clear_refs), compilation included.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

FRESH_RSS = "peak RSS of a fresh process during its first call, over its RSS before it"
JAX_ANALYSIS = ("XLA memory_analysis() of the compiled call: temp_size_in_bytes + "
                "output_size_in_bytes - alias_size_in_bytes")
TORCH_CUDA = "torch.cuda.max_memory_allocated() over the memory allocated before the call"
TORCH_PROFILER = ("torch.profiler (profile_memory=True): peak of the running total of the "
                  "allocator's events, in time order")


def _status_bytes(field: str) -> int | None:
    """A VmRSS/VmHWM line of /proc/self/status, in bytes (None where there is no /proc)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def start_rss_peak() -> int | None:
    """Reset the process's peak RSS to its current RSS; returns that RSS (None if Linux's
    clear_refs is not available)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return None
    return _status_bytes("VmRSS")


def rss_peak_since(baseline: int | None) -> dict[str, Any] | None:
    peak = _status_bytes("VmHWM")
    if baseline is None or peak is None:
        return None
    return {"peak_bytes": max(peak - baseline, 0), "method": FRESH_RSS}


def framework_peak(framework: str, adapter: Any, function: Callable[..., Any],
                   arguments: tuple[Any, ...]) -> dict[str, Any] | None:
    """The framework's own figure for one call (None where it has no instrument for it)."""
    if framework == "jax":
        lower = getattr(function, "lower", None)
        if lower is None:  # not jitted: XLA has no program to analyse
            return None
        analysis = lower(*arguments).compile().memory_analysis()
        if analysis is None:
            return None
        # What the program allocates beyond its arguments: its temporaries (XLA's buffer
        # assignment already shares them) and its outputs, less outputs that reuse an
        # argument's buffer. peak_memory_in_bytes is not used: on the CPU it counts the
        # arguments and leaves the temporaries out (jaxlib 0.10.2).
        added = (analysis.temp_size_in_bytes + analysis.output_size_in_bytes
                 - analysis.alias_size_in_bytes)
        return {"peak_bytes": int(added), "method": JAX_ANALYSIS}
    import torch

    if adapter.uses_cuda:
        torch.cuda.synchronize()
        before = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        result = function(*arguments)
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() - before
        del result
        return {"peak_bytes": int(peak), "method": TORCH_CUDA}
    if adapter.device.type != "cpu":
        return None
    from torch._C._profiler import _EventType
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as profiler:
        result = function(*arguments)
    del result
    # The allocator's own events (sizes negative for frees), each at its own time: operator
    # totals would count a parent's frees at its start, before its children ran.
    events, stack = [], list(profiler.profiler.kineto_results.experimental_event_tree())
    while stack:
        event = stack.pop()
        stack.extend(event.children)
        if event.tag == _EventType.Allocation:
            events.append((event.start_time_ns, event.extra_fields.alloc_size))
    running = peak = 0
    for _, size in sorted(events):
        running += size
        peak = max(peak, running)
    return {"peak_bytes": int(peak), "method": TORCH_PROFILER}
