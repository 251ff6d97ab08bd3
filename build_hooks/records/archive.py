"""Results per machine, committed under results/<machine>/ (the asv data model).

`results/<machine>/machine.json` describes the machine; each `results-<UTC time>.json` is one
refresh: the topic records of the results cache (same format, same schema) with the machine's
environment, the date and the commit of the snippets measured. A refresh adds a file, so the
history of a machine is its files in date order; the latest is what the site shows.

A file that cannot be read, is of another format, schema or harness version is reported by name
and skipped, never half-read. Two files of the same machine and day are merged when they hold
different topics, and the later one is rejected, with a message, when they overlap.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from build_hooks import HARNESS_VERSION
from build_hooks.core import Log, host
from build_hooks.core.atomic import write_atomically
from build_hooks.core.jsonfile import read_versioned, write_versioned
from build_hooks.records.cache import RECORD_FORMAT, RECORD_SCHEMA

BUNDLE_FORMAT = "jax-vs-pytorch/results"
BUNDLE_SCHEMA = 1
BUNDLE_PATTERN = "results-*.json"
VALIDATION_FORMAT = "jax-vs-pytorch/validation"
VALIDATION_SCHEMA = 1
VALIDATION_FILE = "validation.json"


@dataclass
class Bundle:
    path: Path
    machine_name: str
    measured_at: str
    machine: dict[str, Any]
    frameworks: dict[str, Any]
    commit: dict[str, Any]
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    probe: dict[str, Any] | None = None
    """The machine probe measured with these results (None in files older than the probe)."""

    @property
    def day(self) -> str:
        return self.measured_at[:10]


def machine_dir(project_dir: Path, machine_name: str) -> Path:
    """`results/<machine>/`: the machine's results files and its validation, bench and audit
    reports."""
    return project_dir / "results" / machine_name


def git_commit(project_dir: Path) -> dict[str, Any]:
    """The commit of the project and whether snippets/ had uncommitted changes."""
    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", *args], cwd=project_dir, capture_output=True,
                                  text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    return {"sha": git("rev-parse", "HEAD"),
            "snippets_modified": bool(git("status", "--porcelain", "--", "snippets"))}


def save_bundle(project_dir: Path, machine_name: str, machine: dict[str, Any],
                frameworks: dict[str, Any], records: dict[str, dict[str, Any]],
                probe: dict[str, Any] | None = None) -> tuple[Path, list[Path]]:
    """Write the current machine's records as a new results file. A file of the same machine
    and day is replaced (one refresh a day is the history's grain); returns the new path and
    the replaced ones, which the caller reports."""
    measured_at = host.now_iso()
    stamp = re.sub(r"[^0-9T]", "", measured_at[:19])  # 20261125T141530
    directory = machine_dir(project_dir, machine_name)
    path = directory / f"results-{stamp}.json"
    if path.exists():
        raise FileExistsError(f"{path} exists already; wait a second and save again")
    replaced = sorted(directory.glob(f"results-{stamp[:8]}T*.json"))
    bundle = {
        "harness_version": HARNESS_VERSION, "machine_name": machine_name,
        "measured_at": measured_at, "machine": machine, "frameworks": frameworks,
        "commit": git_commit(project_dir), "topics": records, "probe": probe,
    }
    write_versioned(path, BUNDLE_FORMAT, BUNDLE_SCHEMA, bundle)
    write_atomically(directory / "machine.json", json.dumps(
        {"machine_name": machine_name, **machine}, indent=1))
    for old in replaced:
        old.unlink()
    return path, replaced


def read_bundle(path: Path) -> tuple[Bundle | None, str]:
    """The results file, or None and its problem with the fix."""
    data, problem = read_versioned(path, BUNDLE_FORMAT, BUNDLE_SCHEMA, "results file")
    if data is None:
        if problem == "missing":
            return None, "does not exist; check the path"
        fix = ("measure that machine again and save" if "schema" in problem
               else "restore it from git or delete it")
        return None, f"{problem}; {fix}"
    if data.get("harness_version") != HARNESS_VERSION:
        return None, (f"was measured by harness version {data.get('harness_version')}, this "
                      f"is {HARNESS_VERSION}; measure that machine again and save")
    topics = data.get("topics")
    required = ("machine_name", "measured_at", "machine")
    if not isinstance(topics, dict) or any(not data.get(key) for key in required):
        return None, "is incomplete (a write was cut short?); restore it or delete it"
    for name, record in topics.items():
        if not isinstance(record, dict) or record.get("format") != RECORD_FORMAT or \
                record.get("schema_version") != RECORD_SCHEMA or "rows" not in record:
            return None, f"holds a damaged record for topic '{name}'; restore it or delete it"
    return Bundle(path=path, machine_name=data["machine_name"], measured_at=data["measured_at"],
                  machine=data["machine"], frameworks=data.get("frameworks") or {},
                  commit=data.get("commit") or {}, records=topics,
                  probe=data.get("probe") if isinstance(data.get("probe"), dict) else None), ""


def load_history(project_dir: Path, log: Log) -> dict[str, list[Bundle]]:
    """Every machine's refreshes, oldest first; same-day files merged (or one rejected).
    `log` receives one message per file skipped, naming it, the problem and the fix."""
    history: dict[str, list[Bundle]] = {}
    for path in sorted((project_dir / "results").glob(f"*/{BUNDLE_PATTERN}")):
        bundle, problem = read_bundle(path)
        if bundle is None:
            log(f"Skipping {path.relative_to(project_dir)}: it {problem}")
            continue
        bundles = history.setdefault(bundle.machine_name, [])
        same_day = next((b for b in bundles if b.day == bundle.day), None)
        if same_day is None:
            bundles.append(bundle)
            continue
        overlap = sorted(set(same_day.records) & set(bundle.records))
        if overlap:
            log(f"Skipping {path.relative_to(project_dir)}: "
                f"{same_day.path.relative_to(project_dir)} holds the same machine and day "
                f"with the same topic(s) ({', '.join(overlap)}); keep one of the two files")
            continue
        same_day.records.update(bundle.records)
        same_day.probe = same_day.probe or bundle.probe
        same_day.measured_at = max(same_day.measured_at, bundle.measured_at)
    for bundles in history.values():
        bundles.sort(key=lambda b: b.measured_at)
    return history
