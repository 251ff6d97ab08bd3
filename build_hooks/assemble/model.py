"""The results model every page is rendered from: one machine's results (`BuildResults`) and
the whole site's (`Site`), with the `results.json` document they make."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from build_hooks import HARNESS_VERSION
from build_hooks.core.host import now_iso
from build_hooks.spec.topics import Topic

RowKey = tuple[str, str, int]
"""(framework, variant, size): the identity of a row within its topic."""


def index_rows(rows: list[dict[str, Any]]) -> dict[RowKey, dict[str, Any]]:
    """The rows of one topic by (framework, variant, size)."""
    return {(row["framework"], row["variant"], row["size"]): row for row in rows}


SCHEMA_VERSION = 2


@dataclass(frozen=True)
class BuildResults:
    """One machine's results: its topics and its results document."""

    topics: list[Topic]
    data: dict[str, Any]
    ran: list[str]
    """Names of the topics measured in this build (the rest came from the cache)."""
    charts: dict[str, list[Any]] = field(default_factory=dict)
    """Per topic, its charts (build_hooks.render.charts.Chart), drawn from `data`."""
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The raw topic records behind `data` (what `save` writes to results/<machine>/)."""
    label: str = ""
    """How readers tell machines apart: the accelerator (or CPU) and the date."""
    origin: str = "this build"
    """'this build', or the results file the numbers were loaded from."""
    stale: dict[str, str] = field(default_factory=dict)
    """Topics whose files changed since they were measured here, with when they were."""
    missing: list[str] = field(default_factory=list)
    """Topics of the site that have no result on this machine."""
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)
    """What renderers derived from `data` once (clean rows per topic): `data` does not change
    after assembly, and a page asks for the same rows many times."""

    def topic(self, name: str) -> Topic | None:
        return next((t for t in self.topics if t.name == name), None)

    def entry(self, name: str) -> dict[str, Any]:
        return next(t for t in self.data["topics"] if t["topic"] == name)

    def rows(self, name: str) -> list[dict[str, Any]]:
        return [row for row in self.data["results"] if row["topic"] == name]

    def parity(self, name: str) -> dict[str, Any]:
        return self.data["parity"][name]

    def comparisons(self, name: str) -> list[dict[str, Any]]:
        return [c for c in self.data["comparisons"] if c["topic"] == name]


@dataclass(frozen=True)
class Site:
    """Everything the pages show: the topics and each machine's results, the first being this
    build's (or, frozen, the first stored machine)."""

    topics: list[Topic]
    machines: list[BuildResults]
    changes: list[dict[str, Any]] = field(default_factory=list)
    """Per machine, what changed significantly between its last two stored refreshes."""
    frozen: bool = False
    skipped_files: list[str] = field(default_factory=list)
    """Results files that could not be used, each with its problem and fix."""

    @property
    def primary(self) -> BuildResults:
        return self.machines[0]

    def topic(self, name: str) -> Topic | None:
        return next((t for t in self.topics if t.name == name), None)

    def holders(self, name: str) -> list[BuildResults]:
        """The machines that have a result for the topic, in site order."""
        return [m for m in self.machines if m.topic(name) is not None]

    def document(self) -> dict[str, Any]:
        """results.json: the primary machine's document, the others under `machines`."""
        if not self.machines:
            return {"schema_version": SCHEMA_VERSION, "harness_version": HARNESS_VERSION,
                    "generated_at": now_iso(), "results": [], "topics": [], "machines": [],
                    "changes": self.changes, "frozen": self.frozen}
        document = {**self.primary.data, "label": self.primary.label,
                    "origin": self.primary.origin, "frozen": self.frozen,
                    "stale": self.primary.stale, "missing": self.primary.missing}
        document["machines"] = [{**m.data, "label": m.label, "origin": m.origin,
                                 "stale": m.stale, "missing": m.missing}
                                for m in self.machines[1:]]
        document["changes"] = self.changes
        return document


def machine_label(machine: dict[str, Any], frameworks: dict[str, Any], measured_at: str) -> str:
    """e.g. 'NVIDIA H100 80GB HBM3 · 2026-11-20' or 'AMD EPYC (CPU, 2 cores) · 2026-11-25'."""
    accelerators = [info.get("accelerator") for info in frameworks.values()
                    if isinstance(info, dict) and info.get("accelerator")]
    if accelerators:
        hardware = accelerators[0]
    elif machine.get("gpus"):
        hardware = machine["gpus"][0]
    else:
        hardware = f"{machine.get('cpu')} (CPU, {machine.get('schedulable_cores')} cores)"
    return f"{hardware} · {measured_at[:10]}"
