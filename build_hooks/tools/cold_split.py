"""Where a cold build's time goes, from the results.json it wrote and its wall time.

- imports: each build worker's import of its framework (a topic with its own environment
  starts workers of its own, which import again);
- compilation: the first call of every row measured in the build's workers (trace, compile and
  one run: the first call is timed on its own and never enters the samples);
- timed measurement: the timed blocks (samples × calls per block) and the blocks run and
  discarded after a switch between frameworks;
- fresh processes: the rows measured one new process per sample, from spawn to first result
  (their interpreter start, import and compile included);
- everything else: the rest of the wall time (setup and inputs, calibration, parity checks,
  the machine probe, starting workers beyond the import, charts, pages and MkDocs itself).

Each topic's own measuring time is reported too, with the budget its topic.toml sets.
"""

from __future__ import annotations

import statistics
from typing import Any


def cold_split(document: dict[str, Any], wall_s: float) -> dict[str, Any]:
    measured = {t["topic"]: t for t in document["topics"] if t.get("source") == "fresh"}
    rows = [r for r in document["results"] if r["topic"] in measured]
    imports: dict[tuple[str, float], None] = {}
    compilation = timed = fresh = 0.0
    for row in rows:
        described = (row.get("environment") or {}).get("framework") or {}
        if described.get("import_s") is not None:
            imports[(row["framework"], described["import_s"])] = None
        if row.get("fresh"):
            fresh += sum(run.get("to_first_result_s") or 0.0 for run in row["fresh"]["runs"])
            continue
        compilation += row.get("first_call_s") or 0.0
        samples = row.get("samples") or []
        if samples:
            number = row.get("number") or 1
            timed += number * (sum(samples) +
                               (row.get("discarded_blocks") or 0) * statistics.median(samples))
    parts = {"imports_s": sum(seconds for _, seconds in imports),
             "compilation_s": compilation, "timed_measurement_s": timed,
             "fresh_processes_s": fresh}
    parts["everything_else_s"] = wall_s - sum(parts.values())
    return {"wall_s": wall_s, **parts,
            "topics": {name: {"seconds": topic.get("seconds"), "budget_s": topic.get("budget_s")}
                       for name, topic in measured.items()}}


def format_split(split: dict[str, Any], label: str) -> list[str]:
    wall = split["wall_s"]
    names = (("imports_s", "framework imports"), ("compilation_s", "first calls (compilation)"),
             ("timed_measurement_s", "timed measurement"),
             ("fresh_processes_s", "fresh processes"), ("everything_else_s", "everything else"))
    lines = [f"  {label}: {wall:.0f} s ({wall / 60:.1f} min)"]
    lines += [f"    {text:<28} {split[key]:7.1f} s  {split[key] / wall:6.1%}"
              for key, text in names]
    over = [(name, t["seconds"], t["budget_s"]) for name, t in split["topics"].items()
            if t.get("budget_s") is not None and t.get("seconds") is not None
            and t["seconds"] > t["budget_s"]]
    if split.get("quick"):  # budgets are for full measurements
        return lines
    budgets = [t["budget_s"] for t in split["topics"].values() if t.get("budget_s")]
    if budgets:
        lines.append(f"    the measured topics' budgets add up to {sum(budgets):.0f} s")
    if over:
        lines.append("    over their budget: " + ", ".join(
            f"{name} {seconds:.0f} s > {budget:g} s" for name, seconds, budget in over))
    return lines
