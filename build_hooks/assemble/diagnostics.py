"""What the build log says about the results: warnings (which fail `--strict`) and infos."""

from __future__ import annotations

from typing import Any

from build_hooks import FRAMEWORK_LABELS
from build_hooks.assemble.model import Site


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
    infos.extend(over_budget(data))
    for name, summary in data["parity"].items():
        if summary["status"] == "mismatch":
            warnings.append(f"topic '{name}': JAX and PyTorch outputs differ: "
                            f"{summary['message']}")
    return warnings, infos


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


def over_budget(data: dict[str, Any]) -> list[str]:
    """The topics this build measured in full that took longer than their topic.toml budget."""
    quick = {row["topic"] for row in data["results"]
             if ((row.get("environment") or {}).get("settings") or {}).get("measure", {})
             .get("quick")}
    return [f"topic '{topic['topic']}' took {topic['seconds']:.0f} s to measure, over its "
            f"budget of {topic['budget_s']:g} s (budget_s in its topic.toml): make it cheaper "
            "(fewer sizes or variants) or raise the budget"
            for topic in data["topics"]
            if topic.get("source") == "fresh" and topic.get("budget_s") is not None
            and topic.get("seconds") is not None and topic["seconds"] > topic["budget_s"]
            and topic["topic"] not in quick]
