"""The timing method, run inside a worker only. Framework-neutral: the worker passes the call and
the function that waits for its result (`block`).

- Every call is followed by `block(result)`, so a sample is the time until the result is ready,
  not the time until an asynchronous dispatch returned (JAX FAQ, "Benchmarking JAX code").
- The first call (trace, compile, run) is timed on its own and never enters the samples.
- The inner loop grows 1, 2, 5, 10, 20, 50, ... until a block lasts `min_block_s` (timeit's
  autorange); those calibration blocks double as warm-up and are discarded.
- Each block gives one sample: its duration divided by its number of calls.
- The first block(s) of each turn can be run and discarded (`settle`): the runner alternates the
  frameworks, and the block after a switch pays for the switch.
- Python's garbage collector is off while a block runs (timeit does the same).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

clock = time.perf_counter

# Default cap on the calibration, so a slow call is not repeated for minutes (the worker passes
# half the measurement budget, extra.comparison.measure.max_time_s / 2).
CALIBRATION_LIMIT_S = 5.0
MAX_NUMBER = 10**7


@contextmanager
def gc_disabled() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def time_first_call(call: Callable[[], Any], block: Callable[[Any], None]) -> tuple[Any, float]:
    """Run the first call and wait for its result; return the result and the seconds it took."""
    with gc_disabled():
        start = clock()
        result = call()
        block(result)
        elapsed = clock() - start
    return result, elapsed


def time_block(call: Callable[[], Any], block: Callable[[Any], None], number: int) -> float:
    """Seconds taken by `number` calls, each waited for before the next starts."""
    with gc_disabled():
        start = clock()
        for _ in range(number):
            block(call())
        return clock() - start


def _next_number(number: int) -> int:
    """1, 2, 5, 10, 20, 50, ... as in timeit.Timer.autorange."""
    digits = str(number)
    mantissa, exponent = int(digits[0]), len(digits) - 1
    step = {1: 2, 2: 5, 5: 10}[mantissa]
    return step * 10**exponent


@dataclass(frozen=True)
class Calibration:
    number: int
    """Calls per block."""
    last_block_s: float
    """Duration of the last calibration block (its per-call time is a first estimate)."""
    capped: bool
    """True when the calibration limit stopped the growth before min_block_s was reached."""


def calibrate(call: Callable[[], Any], block: Callable[[Any], None], min_block_s: float,
              limit_s: float = CALIBRATION_LIMIT_S) -> Calibration:
    """Grow the number of calls per block until one block lasts at least `min_block_s`."""
    number = 1
    spent = 0.0
    while True:
        elapsed = time_block(call, block, number)
        spent += elapsed
        if elapsed >= min_block_s:
            return Calibration(number, elapsed, capped=False)
        following = _next_number(number)
        # Stop before a block that would overrun the limit or the largest inner loop.
        projected = elapsed / number * following
        if following > MAX_NUMBER or spent + projected > limit_s:
            return Calibration(number, elapsed, capped=True)
        number = following


def sample_blocks(call: Callable[[], Any], block: Callable[[Any], None], number: int,
                  count: int, settle: int = 0) -> list[float]:
    """`count` blocks of `number` calls each, after `settle` blocks that are run and discarded;
    one per-call time per kept block."""
    for _ in range(settle):
        time_block(call, block, number)
    return [time_block(call, block, number) / number for _ in range(count)]
