"""The result cache: one versioned JSON record per topic (quick and full measurements apart),
written atomically, under a lock.

A record is reused only when its key matches: the key covers the topic's sources and metadata,
the harness version, the record schema, the framework versions and machine (the fingerprint),
and the measurement settings. A record that is missing, unreadable, of another schema or for
another key simply means "run it again"; the reason is returned for the log.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import build_hooks
from build_hooks import HARNESS_VERSION
from build_hooks.core.jsonfile import read_versioned, write_versioned
from build_hooks.spec.settings import Settings
from build_hooks.spec.topics import Topic

RECORD_FORMAT = "jax-vs-pytorch/topic-record"
RECORD_SCHEMA = 1
PROBE_FORMAT = "jax-vs-pytorch/machine-probe"
PROBE_SCHEMA = 1


# The code that measures: everything that runs inside the workers (worker/) and the parent side
# of the boundary (run/), which decides the protocol (rounds, budgets, settling) and the
# workers' environment (allocator tunables, threads). An edit to it is an edit to the measuring
# method, so it invalidates every cached number even if HARNESS_VERSION was not bumped.
MEASURING_PACKAGES = ("worker", "run")
PACKAGE_DIR = Path(build_hooks.__file__).parent
# Measuring code that only some numbers depend on: its own digest goes into those numbers' keys
# alone (the peak memory of topics that ask for it; the machine probe), so fixing it does not
# measure every topic again.
PEAK_MEMORY_CODE = ("worker/memory.py",)
PROBE_CODE = ("worker/probe.py", "run/probe.py")


def measuring_code() -> list[Path]:
    """The source files every number depends on, in a stable order."""
    own = {PACKAGE_DIR / name for name in (*PEAK_MEMORY_CODE, *PROBE_CODE)}
    return sorted(path for name in MEASURING_PACKAGES
                  for path in (PACKAGE_DIR / name).rglob("*.py") if path not in own)


def _files_digest(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(str(path.relative_to(PACKAGE_DIR)).encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@functools.cache
def worker_code_digest() -> str:
    return _files_digest(measuring_code())


@functools.cache
def code_digest(names: tuple[str, ...]) -> str:
    """The digest of some measuring files (PEAK_MEMORY_CODE, PROBE_CODE)."""
    return _files_digest([PACKAGE_DIR / name for name in names])


def key_parts(topic: Topic, settings: Settings,
              machine_fingerprint: dict[str, Any]) -> dict[str, str]:
    """A digest of each thing that can change a number; the cache key is made of all of them."""
    harness = [HARNESS_VERSION, RECORD_SCHEMA, worker_code_digest()]
    if topic.peak_memory:
        harness.append(code_digest(PEAK_MEMORY_CODE))
    parts: dict[str, Any] = {
        "harness": harness,
        "settings": [settings.cache_key_fields(), list(settings.frameworks)],
        "machine": machine_fingerprint,
    }
    return {"sources": sources_part(topic),
            **{name: _digest(value) for name, value in parts.items()}}


def probe_key(settings: Settings, machine_fingerprint: dict[str, Any]) -> str:
    """The machine probe's key: the machine and framework versions, the measuring code, the
    frameworks and whether it is a quick probe (its sizes)."""
    return _digest([HARNESS_VERSION, worker_code_digest(), code_digest(PROBE_CODE),
                    machine_fingerprint, list(settings.frameworks), settings.measure.quick])


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:16]


def sources_part(topic: Topic) -> str:
    """The sources component of the key: compared to tell a stored result is stale."""
    return _digest(topic.sources_digest)


def cache_key(topic: Topic, settings: Settings, machine_fingerprint: dict[str, Any],
              parts: dict[str, str] | None = None) -> str:
    parts = parts or key_parts(topic, settings, machine_fingerprint)
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


_CHANGE_NAMES = {
    "sources": "the topic's files changed",
    "harness": "the harness version or the measuring code changed",
    "settings": "the measurement settings changed",
    "machine": "the machine or framework versions changed",
}


class ResultStore:
    """The records of one kind of measurement: quick ones (drafts, tests) are kept apart from
    full ones, so switching between the two does not measure again what each already has."""

    def __init__(self, cache_dir: Path, quick: bool = False):
        self.cache_dir = cache_dir
        self.suffix = ".quick.json" if quick else ".json"

    def path(self, topic: str) -> Path:
        return self.cache_dir / f"{topic}{self.suffix}"

    def load(self, topic: str, key: str,
             parts: dict[str, str] | None = None) -> tuple[dict[str, Any] | None, str]:
        """The stored record for this key, or None and why it cannot be used (`parts`, the
        key's components, let the reason say what changed)."""
        path = self.path(topic)
        record, problem = read_versioned(path, RECORD_FORMAT, RECORD_SCHEMA, "topic record")
        if record is None:
            if problem == "missing":
                return None, "not measured yet"
            return None, f"cache file {path} {problem}; measuring again"
        if record.get("key") != key:
            stored = record.get("key_parts") or {}
            changed = [_CHANGE_NAMES[name] for name in _CHANGE_NAMES
                       if parts and stored.get(name) != parts.get(name)]
            return None, "; ".join(changed) or "its cache key changed"
        required = ("topic", "rows", "setups", "parity_checks", "measured_at")
        if any(name not in record for name in required):
            return None, f"cache file {path} is incomplete; measuring again"
        return record, "cached"

    def probe_path(self) -> Path:
        # A hyphen cannot start or appear in a topic's name, so no topic's record is here.
        return self.cache_dir / f"machine-probe{self.suffix}"

    def load_probe(self, key: str) -> dict[str, Any] | None:
        """The stored machine probe for this key, or None (not measured, or another key)."""
        probe, _ = read_versioned(self.probe_path(), PROBE_FORMAT, PROBE_SCHEMA, "machine probe")
        return probe if probe is not None and probe.get("key") == key else None

    def save_probe(self, probe: dict[str, Any]) -> dict[str, Any]:
        return write_versioned(self.probe_path(), PROBE_FORMAT, PROBE_SCHEMA, probe)

    def save(self, record: dict[str, Any]) -> dict[str, Any]:
        """Store a record under the record header; returns the record as stored."""
        return write_versioned(self.path(record["topic"]), RECORD_FORMAT, RECORD_SCHEMA, record)

    @contextlib.contextmanager
    def lock(self, on_wait: Callable[[], None]) -> Iterator[None]:
        """Hold the cache's lock: two builds at once measure one after the other."""
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        with open(self.cache_dir / ".lock", "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as error:
                if error.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                on_wait()
                fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
