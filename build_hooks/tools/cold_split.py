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

Each topic's own measuring time is reported too, with the budget its topic.toml sets, and
their sum against the wall time: the rest is the build's own work outside the topics
(starting the workers, the probe, charts, pages, MkDocs).

A build that overlaps work (quick mode: both frameworks prepare at once, fresh processes run
two at a time; results.json's environment says `overlap_prepare`) counts each process's time
in full, so its parts add up to more than the wall time they took: it has no "everything
else" by subtraction, and the time inside the topics and outside them is the split to read.
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
    parts: dict[str, Any] = {"imports_s": sum(seconds for _, seconds in imports),
                             "compilation_s": compilation, "timed_measurement_s": timed,
                             "fresh_processes_s": fresh}
    measurement = (document.get("environment") or {}).get("measurement") or {}
    overlapped = bool(measurement.get("overlap_prepare"))
    parts["everything_else_s"] = None if overlapped else wall_s - sum(parts.values())
    in_topics = sum(topic.get("seconds") or 0.0 for topic in measured.values())
    return {"wall_s": wall_s, **parts, "quick": bool(measurement.get("quick")),
            "overlapped": overlapped,
            "topics_s": in_topics, "outside_topics_s": wall_s - in_topics,
            "topics": {name: {"seconds": topic.get("seconds"), "budget_s": topic.get("budget_s")}
                       for name, topic in measured.items()}}


def format_split(split: dict[str, Any], label: str) -> list[str]:
    wall = split["wall_s"]
    names = (("imports_s", "framework imports"), ("compilation_s", "first calls (compilation)"),
             ("timed_measurement_s", "timed measurement"),
             ("fresh_processes_s", "fresh processes"), ("everything_else_s", "everything else"))
    lines = [f"  {label}: {wall:.0f} s ({wall / 60:.1f} min)"]
    count = len(split["topics"])
    lines += [f"    {f'measuring the {count} topics':<28} {split['topics_s']:7.1f} s  "
              f"{split['topics_s'] / wall:6.1%}",
              f"    {'outside the topics':<28} {split['outside_topics_s']:7.1f} s  "
              f"{split['outside_topics_s'] / wall:6.1%}  (workers, probe, charts, pages)"]
    if split.get("overlapped"):
        lines.append("    within the topics, each process's time in full (work that ran at "
                     "once counts twice):")
        lines += [f"      {text:<26} {split[key]:7.1f} s"
                  for key, text in names if split.get(key) is not None]
    else:
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
