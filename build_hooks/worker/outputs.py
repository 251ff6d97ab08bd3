"""What a timed function returned, as named NumPy leaves both workers produce the same way.

Runs inside workers. Containers are walked identically for both frameworks (dicts by sorted key,
lists and tuples by index), so the leaf paths of the two sides line up for the parity check.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

ToNumpy = Callable[[Any], "np.ndarray | None"]


def flatten(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Yield (path, leaf) for every leaf of nested dicts, lists and tuples."""
    if isinstance(value, dict):
        for key in sorted(value, key=str):
            yield from flatten(value[key], f"{path}/{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from flatten(item, f"{path}[{index}]")
    else:
        yield path or "output", value


def to_leaves(value: Any, to_numpy: ToNumpy) -> tuple[list[dict[str, Any]], list[np.ndarray]]:
    """Describe every leaf and convert the framework arrays among them.

    Only the framework's own arrays are compared for parity: a Python scalar or None carries
    nothing the harness waited for, so it is described, never silently counted as a match.
    """
    described: list[dict[str, Any]] = []
    arrays: list[np.ndarray] = []
    for path, leaf in flatten(value):
        array = to_numpy(leaf) if leaf is not None else None
        if array is None or array.dtype.kind not in "biufc":
            described.append({"path": path, "kind": "other", "type": type(leaf).__name__})
            continue
        described.append({"path": path, "kind": "array", "shape": list(array.shape),
                          "dtype": str(array.dtype), "index": len(arrays)})
        arrays.append(array)
    return described, arrays


def save_arrays(path: Path, arrays: list[np.ndarray]) -> None:
    # Values typed Any: NumPy's stubs would match a mapping of arrays against savez's
    # keyword flags (and `allow_pickle=` itself is only understood from NumPy 2.1 on).
    leaves: dict[str, Any] = {f"leaf{index}": array for index, array in enumerate(arrays)}
    np.savez(path, **leaves)


def inputs_digest(inputs: dict[str, Any]) -> str:
    """A digest of the shared inputs, to prove both sides received the same data."""
    digest = hashlib.sha256()
    for key in sorted(inputs):
        array = np.ascontiguousarray(np.asarray(inputs[key]))
        digest.update(f"{key}:{array.dtype.str}:{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()
