"""What changed between two refreshes of a machine: asv's `compare`, on our records.

A row changed only when the Mann-Whitney U test finds the two sets of samples different and the
medians are at least `min_speedup` apart, the same rule that names a winner between frameworks.
Rows present in only one of the two sets are listed as unpaired, never silently dropped.
"""

from __future__ import annotations

from typing import Any

from build_hooks.core import stats
from build_hooks.records.archive import Bundle
from build_hooks.spec.settings import Settings
from build_hooks.spec.topics import Topic

Key = tuple[str, str, str, int]


def _samples(records: dict[str, dict[str, Any]]) -> dict[Key, list[float]]:
    found = {}
    for name, record in records.items():
        for row in record.get("rows", []):
            if row.get("status") == "ok" and row.get("samples"):
                found[(name, row["framework"], row["variant"], row["size"])] = row["samples"]
    return found


def compare_records(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]],
                    settings: Settings) -> dict[str, Any]:
    """Per paired row: the ratio after/before of the medians and whether it is a change."""
    a, b = _samples(before), _samples(after)
    rows = []
    for key in sorted(set(a) & set(b)):
        verdict = stats.compare("before", a[key], "after", b[key],
                                settings.significance_level, settings.min_speedup)
        change = {"after": "faster", "before": "slower"}.get(verdict.faster or "", "same")
        rows.append({"topic": key[0], "framework": key[1], "variant": key[2], "size": key[3],
                     "before_s": stats.median(a[key]), "after_s": stats.median(b[key]),
                     "ratio": stats.median(b[key]) / stats.median(a[key]),
                     "p_value": verdict.p_value, "change": change, "reason": verdict.reason})
    return {"rows": rows,
            "only_before": [list(key) for key in sorted(set(a) - set(b))],
            "only_after": [list(key) for key in sorted(set(b) - set(a))]}


def version_changes(before: Bundle, after: Bundle) -> list[str]:
    """Software versions that differ between two refreshes, as 'torch 2.12.0 -> 2.13.0'."""
    changes = []
    old = before.machine.get("packages") or {}
    new = after.machine.get("packages") or {}
    for name in sorted(set(old) | set(new)):
        if old.get(name) != new.get(name):
            changes.append(f"{name} {old.get(name) or 'absent'} -> {new.get(name) or 'absent'}")
    if before.machine.get("python") != after.machine.get("python"):
        changes.append(f"Python {before.machine.get('python')} -> {after.machine.get('python')}")
    return changes


def changes_between(before: Bundle, after: Bundle, topics: list[Topic],
                    settings: Settings) -> dict[str, Any]:
    """The Changes page's entry for one machine: its last two refreshes compared."""
    names = {t.name for t in topics}
    comparison = compare_records(
        {n: r for n, r in before.records.items() if n in names},
        {n: r for n, r in after.records.items() if n in names}, settings)
    return {
        "machine_name": after.machine_name,
        "before": {"measured_at": before.measured_at, "file": before.path.name,
                   "commit": before.commit.get("sha")},
        "after": {"measured_at": after.measured_at, "file": after.path.name,
                  "commit": after.commit.get("sha")},
        "versions": version_changes(before, after),
        **comparison,
    }
