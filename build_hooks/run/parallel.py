"""Work that may overlap, run side by side: each call in a thread of its own.

The calls given here spend their time waiting on worker processes (a framework's import, a
compiler's warm-up, an untimed process that fills a cache), so threads overlap them despite the
GIL. The scheduler only overlaps what no measurement sees: nothing timed runs while they do,
except where quick mode says so. The threads are daemons: Ctrl-C in the main thread is not held
up by a call still waiting (the workers it waits on are killed on the way out, which ends it).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


def side_by_side(calls: Mapping[K, Callable[[], V]]) -> dict[K, V]:
    """Each call's result, by key, once all have returned; the first exception (in the
    calls' order) is raised after all finished. A single call runs in this thread."""
    if len(calls) <= 1:
        return {key: call() for key, call in calls.items()}
    results: dict[K, V] = {}
    errors: dict[K, BaseException] = {}

    def run(key: K, call: Callable[[], V]) -> None:
        try:
            results[key] = call()
        except BaseException as error:  # re-raised in the calling thread
            errors[key] = error

    threads = [threading.Thread(target=run, args=(key, call), daemon=True,
                                name=f"side-by-side-{key}") for key, call in calls.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for key in calls:
        if key in errors:
            raise errors[key]
    return {key: results[key] for key in calls}
