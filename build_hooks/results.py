"""From raw topic records to the published data (`results.json`): statistics, verdicts, parity.

Everything derived (median, IQR, noise flag, GFLOP/s, the faster side) is computed here from the
raw samples on every build, so a change of threshold never leaves a stale flag in the cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from build_hooks import FRAMEWORK_LABELS, FRAMEWORKS, HARNESS_VERSION
from build_hooks.core import stats
from build_hooks.core.host import now_iso
from build_hooks.spec.settings import Settings
from build_hooks.spec.topics import Topic

SCHEMA_VERSION = 2


@dataclass(frozen=True)
class BuildResults:
    """One machine's results: its topics and its results document."""

    topics: list[Topic]
    data: dict[str, Any]
    ran: list[str]
    """Names of the topics measured in this build (the rest came from the cache)."""
    charts: dict[str, list[Any]] = field(default_factory=dict)
    """Per topic, its charts (build_hooks.charts.Chart), drawn from `data`."""
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


def derive_row(row: dict[str, Any], topic: Topic, settings: Settings,
               min_samples: int | None = None) -> dict[str, Any]:
    """The row with its statistics: median, quartiles, IQR, n, noise and completeness flags.
    `min_samples` is the one the row was measured with (a stored machine's may differ)."""
    samples = row.get("samples") or []
    derived = dict(row)
    derived.update(median_s=None, iqr_s=None, q25_s=None, q75_s=None, n=len(samples),
                   noisy=None, incomplete=None, gflops=None)
    if samples:
        middle = stats.median(samples)
        derived.update(
            median_s=middle,
            q25_s=stats.quantile(samples, 0.25),
            q75_s=stats.quantile(samples, 0.75),
            iqr_s=stats.iqr(samples),
            noisy=stats.is_noisy(samples, settings.noise_threshold),
        )
        flop_count = topic.flop_count(row["size"])
        if flop_count is not None and middle > 0:
            derived["gflops"] = flop_count / middle / 1e9
    if row.get("status") == "ok":
        wanted = settings.measure.min_samples if min_samples is None else min_samples
        derived["incomplete"] = len(samples) < wanted
    return derived


def compare_rows(topic: Topic, rows: list[dict[str, Any]], settings: Settings) -> list[dict]:
    """One verdict per (variant, size) that both frameworks measured."""
    by_key = {(r["framework"], r["variant"], r["size"]): r for r in rows}
    verdicts = []
    for variant in topic.variants:
        for size in topic.sizes:
            jax_row = by_key.get(("jax", variant.name, size))
            torch_row = by_key.get(("pytorch", variant.name, size))
            entry: dict[str, Any] = {"topic": topic.name, "variant": variant.name, "size": size}
            measured = [r for r in (jax_row, torch_row)
                        if r and r.get("status") == "ok" and r.get("samples")]
            # Only rows that finished: a row that failed after some blocks keeps its samples.
            if len(measured) < 2 or jax_row is None or torch_row is None:
                entry.update(faster=None, ratio=None, p_value=None,
                             reason="not measured on both sides")
            else:
                verdict = stats.compare("jax", jax_row["samples"], "pytorch",
                                        torch_row["samples"], settings.significance_level,
                                        settings.min_speedup)
                entry.update(faster=verdict.faster, ratio=verdict.ratio,
                             p_value=verdict.p_value, reason=verdict.reason)
            verdicts.append(entry)
    return verdicts


def parity_summary(topic: Topic, checks: list[dict[str, Any]]) -> dict[str, Any]:
    """One status for the topic from its per-(variant, size) checks."""
    statuses = {check["status"] for check in checks}
    if not topic.parity.compare:
        status = "skipped"
        message = f"Not compared: {topic.parity.reason}"
    elif statuses == {"skipped"}:
        status = "skipped"
        message = f"Not compared: {checks[0]['message']}"
    elif "mismatch" in statuses:
        status = "mismatch"
        bad = [c for c in checks if c["status"] == "mismatch"]
        message = "; ".join(f"{c['variant']} at {topic.size_name}={c['size']}: {c['message']}"
                            for c in bad)
    elif statuses == {"match"}:
        status = "match"
        worst = max(checks, key=lambda c: c.get("max_abs_diff", 0.0))
        arrays = sum(len(c.get("leaves", [])) for c in checks)
        message = (f"JAX and PyTorch agree on all {arrays} output array(s) of {len(checks)} "
                   f"(variant, size) pair(s) within rtol={topic.parity.rtol:g}, "
                   f"atol={topic.parity.atol:g}; largest absolute difference "
                   f"{worst.get('max_abs_diff', 0.0):.3g}")
    elif "match" in statuses:
        status = "partial"
        missing = [c for c in checks if c["status"] != "match"]
        message = (f"Outputs agree where both sides ran; not compared for "
                   f"{len(missing)} of {len(checks)} (variant, size) pair(s): "
                   f"{missing[0]['message']}")
    elif statuses == {"nothing"}:
        status = "nothing"
        message = checks[0]["message"] if checks else "nothing to compare"
    else:
        status = "not_compared"
        message = checks[0]["message"] if checks else "no outputs to compare"
    return {"status": status, "message": message, "rtol": topic.parity.rtol,
            "atol": topic.parity.atol, "checks": checks}


def _row_environment(record: dict[str, Any], framework: str) -> dict[str, Any]:
    return {
        "machine": record.get("machine"),
        "framework": record.get("frameworks", {}).get(framework),
        "settings": record.get("settings"),
        "harness_version": record.get("harness_version"),
        "measured_at": record.get("measured_at"),
    }


def _joined(*parts: str) -> str:
    return "".join(part if part.endswith("\n") or not part else part + "\n"
                   for part in parts if part)


def measured_with(record: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """The measurement settings a record was made with (the current ones if it lacks them)."""
    current = settings.cache_key_fields()
    stored = record.get("settings")
    if not isinstance(stored, dict) or not isinstance(stored.get("measure"), dict):
        return current
    return {**current, **stored}


def assemble(entries: list[tuple[Topic, dict[str, Any], str]], machine: dict[str, Any],
             machine_name: str, settings: Settings) -> dict[str, Any]:
    """The results.json document for the topics in `entries` (topic, record, "fresh"/"cache")."""
    topics, results, parity, comparisons = [], [], {}, []
    latest: dict[str, tuple[str, dict[str, Any]]] = {}
    for topic, record, source in entries:
        setups = {(s["framework"], s["size"]): s for s in record["setups"]}
        rows = []
        for row in record["rows"]:
            setup = setups.get((row["framework"], row["size"]), {})
            derived = derive_row(row, topic, settings, measured_with(record, settings)[
                "measure"]["min_samples"])
            # stdout/stderr: everything printed, setup included; call_*: the call and show().
            derived["call_stdout"], derived["call_stderr"] = row.get("stdout", ""), \
                row.get("stderr", "")
            derived["stdout"] = _joined(setup.get("stdout", ""), row.get("stdout", ""))
            derived["stderr"] = _joined(setup.get("stderr", ""), row.get("stderr", ""))
            derived["environment"] = _row_environment(record, row["framework"])
            derived["measured_at"] = record["measured_at"]
            derived["machine_name"] = machine_name
            rows.append(derived)
        results.extend(rows)
        comparisons.extend(compare_rows(topic, rows, settings))
        parity[topic.name] = parity_summary(topic, record["parity_checks"])
        topics.append({
            "topic": topic.name, "title": topic.title, "question": topic.question,
            "size_name": topic.size_name, "sizes": list(topic.sizes),
            "display_size": topic.display_size, "headline_size": topic.headline_size,
            "flops": topic.flops,
            "variants": [{"name": v.name, "label": v.label, "compiled": v.compiled}
                         for v in topic.variants],
            "measured_at": record["measured_at"], "source": source,
            "seconds": record.get("seconds"), "notes": record.get("notes", []),
            "setups": record["setups"],
        })
        for framework, described in record.get("frameworks", {}).items():
            if framework not in latest or record["measured_at"] > latest[framework][0]:
                latest[framework] = (record["measured_at"], described)
    newest = max((record for _, record, _ in entries), key=lambda r: r["measured_at"],
                 default={})
    measured = measured_with(newest, settings)
    return {
        "schema_version": SCHEMA_VERSION,
        "harness_version": HARNESS_VERSION,
        "generated_at": now_iso(),
        "machine_name": machine_name,
        "environment": {
            **machine,
            "frameworks": {fw: latest[fw][1] for fw in FRAMEWORKS if fw in latest},
            # The settings the numbers were measured with (a stored machine's, if stored).
            "measurement": measured["measure"],
            "noise_threshold": settings.noise_threshold,
            "significance_level": settings.significance_level,
            "min_speedup": settings.min_speedup,
            "timeout_s": measured["timeout_s"],
            "memory_limit_mb": measured["memory_limit_mb"],
        },
        "topics": topics,
        "results": results,
        "comparisons": comparisons,
        "parity": parity,
    }


def problems(data: dict[str, Any], allow_missing_frameworks: bool) -> tuple[list[str], list[str]]:
    """(warnings, infos) for the build log. Warnings make `mkdocs build --strict` fail."""
    warnings: list[str] = []
    infos: list[str] = []
    seen_missing: set[str | None] = set()  # a skipped row's message may be missing
    seen_errors: set[tuple[Any, ...]] = set()
    for row in data["results"]:
        error = row.get("error")
        where = (f"topic '{row['topic']}', {FRAMEWORK_LABELS[row['framework']]}, variant "
                 f"'{row['variant']}', size {row['size']}")
        if row["status"] in ("expected_error", "skipped"):
            if row["status"] == "skipped" and (error or {}).get("message") not in seen_missing:
                seen_missing.add((error or {}).get("message"))
                infos.append(f"topic '{row['topic']}', {FRAMEWORK_LABELS[row['framework']]}: "
                             f"{(error or {}).get('message')}")
            continue
        if row["status"] == "not_run":
            message = (error or {}).get("message", "not run")
            if message in seen_missing:
                continue
            seen_missing.add(message)
            target = infos if allow_missing_frameworks or "disabled" in message else warnings
            target.append(f"{FRAMEWORK_LABELS[row['framework']]} {message}")
        elif row["status"] != "ok" and error:
            identity = (row["topic"], row["framework"], error.get("type"), error.get("message"),
                        error.get("file"), error.get("line"))
            if identity in seen_errors:
                continue  # a setup error repeats in every variant row; report it once
            seen_errors.add(identity)
            location = f"{error['file']}:{error['line']}: " if error.get("file") else ""
            trace = error.get("traceback") or ""
            indented = "\n".join("    " + line for line in trace.splitlines())
            warnings.append(f"{location}{error['type']}: {error['message']} ({where})"
                            + (f"\n{indented}" if indented else ""))
        elif row["status"] == "ok":
            if row.get("incomplete"):
                infos.append(f"{where}: only {row['n']} sample(s) within the time budget")
            if row.get("noisy"):
                infos.append(f"{where}: noisy (IQR/median above the threshold)")
    for name, summary in data["parity"].items():
        if summary["status"] == "mismatch":
            warnings.append(f"topic '{name}': JAX and PyTorch outputs differ: "
                            f"{summary['message']}")
    return warnings, infos


CSV_COLUMNS = ("machine_name", "topic", "framework", "variant", "size", "status", "median_s",
               "q25_s", "q75_s", "iqr_s", "n", "number", "first_call_s", "gflops", "noisy",
               "incomplete", "measured_at", "machine", "device", "framework_version",
               "error_type")


def csv_text(data: dict[str, Any]) -> str:
    """results.csv: one line per measurement (topic, framework, variant, size), no samples."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    rows = [*data["results"], *(row for other in data.get("machines", [])
                                 for row in other["results"])]
    for row in rows:
        environment = row.get("environment") or {}
        framework = environment.get("framework") or {}
        machine = environment.get("machine") or {}
        values = {
            **{key: row.get(key) for key in CSV_COLUMNS},
            "machine_name": row.get("machine_name") or data.get("machine_name"),
            "machine": machine.get("cpu"),
            "device": framework.get("accelerator") or framework.get("backend"),
            "framework_version": framework.get("version"),
            "error_type": (row.get("error") or {}).get("type"),
        }
        writer.writerow(["" if values[key] is None else values[key] for key in CSV_COLUMNS])
    return buffer.getvalue()


def site_problems(site: Site, allow_missing_frameworks: bool) -> tuple[list[str], list[str]]:
    """(warnings, infos) for the whole site. This build's problems are warnings; a stored
    machine's are facts about that machine (infos), except in a frozen build, which publishes
    them, where they are warnings too, as is a topic without a stored result."""
    warnings: list[str] = list(site.skipped_files)
    infos: list[str] = []
    if site.frozen and not site.machines:
        warnings.append("Frozen build, but results/ holds no results file: measure a machine "
                        "and save (python -m build_hooks save), or build without freeze")
    for machine in site.machines:
        live = machine.origin == "this build"
        found, notes = problems(machine.data, allow_missing_frameworks)
        prefix = "" if live else f"[{machine.label}, {machine.origin}] "
        (warnings if live or site.frozen else infos).extend(prefix + m for m in found)
        infos.extend(prefix + m for m in notes)
        for topic in machine.missing:
            message = f"{prefix}topic '{topic}' has no result on this machine"
            (warnings if site.frozen else infos).append(message)
        for topic, measured in machine.stale.items():
            infos.append(f"{prefix}topic '{topic}' is stale: measured {measured}, before its "
                         "files last changed")
    return warnings, infos
