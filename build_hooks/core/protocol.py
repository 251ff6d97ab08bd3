"""The worker protocol: the requests the parent sends, and the error record both sides write.

One JSON line per message, each way. The parent builds a request dataclass and `encode`s it; the
worker `decode`s the line back into the same dataclass and dispatches on its type, so a request
that one side sends and the other does not understand fails loudly, by name, on both sides.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

PERSISTENT_CACHE_ENV = "COMPARISON_PERSISTENT_CACHE"
"""Set (to a folder) only for a fresh-process variant's worker: JAX's persistent cache lives
there (TorchInductor's is TORCHINDUCTOR_CACHE_DIR, which every worker has)."""


@dataclass(frozen=True)
class Prepare:
    """Load a topic at one size, call `setup`, then per variant: first call, `show`, parity
    output, calibration."""

    topic: str
    size: int
    inputs_path: str
    side_path: str
    variants: list[str]
    capture_prefix: str
    """Where the worker writes what each step printed: `<prefix>.setup.stdout`, ..."""
    min_block_s: float
    max_time_s: float
    expect_error: dict[str, str] = field(default_factory=dict)
    """variant -> the exception its call must raise (topic.toml `expect_error`)."""
    calibrate: bool = True
    """False in a fresh process that answers one first call and exits."""
    peak_memory: bool = False
    """Also record each variant's peak memory with its method (worker/memory.py)."""


@dataclass(frozen=True)
class Measure:
    """Time `blocks` more blocks of a prepared variant, after `settle` discarded ones."""

    variant: str
    number: int
    blocks: int
    settle: int = 0


@dataclass(frozen=True)
class Validate:
    """Alternate harness blocks and an independent timer on a prepared variant."""

    variant: str
    number: int
    blocks: int
    rounds: int
    min_run_time: float


@dataclass(frozen=True)
class Probe:
    """Measure the machine's bounds with this framework: a float32 matmul of side `matmul_n`
    and a scale over `copy_mib` MiB (worker/probe.py)."""

    matmul_n: int
    copy_mib: int
    repeats: int


@dataclass(frozen=True)
class WarmUp:
    """Start the framework's compiler stack once, on a tiny function."""


@dataclass(frozen=True)
class Release:
    """Drop the prepared topic and put back any global framework state it changed."""


@dataclass(frozen=True)
class Exit:
    """Answer, then end the worker process."""


Request = Prepare | Measure | Validate | Probe | WarmUp | Release | Exit
OPERATIONS: dict[str, type[Request]] = {
    "prepare": Prepare, "measure": Measure, "validate": Validate, "probe": Probe,
    "warm_up": WarmUp, "release": Release, "exit": Exit,
}
_NAMES = {cls: name for name, cls in OPERATIONS.items()}


class ProtocolError(ValueError):
    """A message that is not a request of this protocol."""


def encode(request: Request) -> str:
    return json.dumps({"op": _NAMES[type(request)], **asdict(request)})


def decode(line: str) -> Request:
    message = json.loads(line)
    operation = message.pop("op", None) if isinstance(message, dict) else None
    cls = OPERATIONS.get(operation) if isinstance(operation, str) else None
    if cls is None:
        raise ProtocolError(f"unknown operation {operation!r}; known: {', '.join(OPERATIONS)}")
    names = {f.name for f in fields(cls)}
    if set(message) - names:
        raise ProtocolError(f"{operation}: unknown field(s) {sorted(set(message) - names)}")
    try:
        return cls(**message)
    except TypeError as error:
        raise ProtocolError(f"{operation}: {error}") from None


def error_record(kind: str, message: str, traceback: str = "", file: str | None = None,
                 line: int | None = None) -> dict[str, Any]:
    """Why something produced no result, as stored with its row and shown on the page: `kind`
    is an exception class name or the harness's own (Timeout, WorkerCrash, Skipped, ...);
    `file` and `line` point into the snippet when the error comes from it."""
    return {"type": kind, "message": message, "traceback": traceback, "file": file,
            "line": line}
