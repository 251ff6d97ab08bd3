"""`make bench`: what the build machinery costs, measured side by side in one run, on copies
of the project (build_hooks/tools/site_copies.py), so the author's tree is never touched.

1. Warm rebuilds (everything from the cache) against builds of the same site with the hooks
   removed (and so our gen-files script and highlight formatter, which need them), alternated,
   several times each, for the whole site and for a copy with three topics: the ratio of
   medians has a target of 1.10, and the seconds the hooks add per MB of page they add show
   whether the cost grows with the topics more than the pages do. A third build, of the pages
   pre-rendered, splits rendering the hooks' content from the hooks' own work.
2. `properdocs serve` on a copy (tools/serve_timing.py): a prose-only edit of a topic page,
   timed to the reload message (target: 1.2 times the warm rebuild), and a one-snippet edit
   (only that topic may be measured again).
3. `python -X importtime -m properdocs build` on a warm rebuild: no module of torch or jax may
   be imported by the MkDocs process.
4. A cold build with quick measurements (budget 4 minutes), and with `full=True` (BENCH_FULL=1)
   a cold build with the site's own measurements (budget 15 minutes), each split into imports,
   compilation, timed measurement, fresh processes and everything else
   (tools/cold_split.py), with the topics over their own budget. Each framework's worker must
   start once per build. The full cold build runs first: its records then warm the copies for
   step 1 (which would otherwise measure everything once more when the project's cache is
   empty). Each says whether it made the compiler start-up the machine keeps or found it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from build_hooks.core import Log, host
from build_hooks.core.jsonfile import write_versioned
from build_hooks.records.archive import machine_dir
from build_hooks.spec.topics import discover_topics
from build_hooks.tools.cold_split import cold_split, format_split
from build_hooks.tools.serve_timing import ServeSession, measured_topics
from build_hooks.tools.site_copies import (
    copy_project,
    folder_names,
    html_bytes,
    load_config_file,
    project_folders,
)

QUIET = {"DISABLE_MKDOCS_2_WARNING": "true", "NO_MKDOCS_2_WARNING": "1"}
WARM_TARGET = 1.10
SERVE_TARGET = 1.2
QUICK_COLD_BUDGET_S = 240.0
FULL_COLD_BUDGET_S = 900.0
SMALL_SITE = ["first_steps", "eager_vs_compiled", "matmul"]
PROSE_PAGE = Path("topics") / "matmul.md"
SNIPPET_TOPIC = "first_steps"
BENCH_FORMAT = "jax-vs-pytorch/bench"


def _build(config: Path, site_dir: Path, env: dict[str, str], *extra: str
           ) -> tuple[float, subprocess.CompletedProcess[str]]:
    command = [sys.executable, *extra, "-m", "properdocs", "build", "-q", "-f", str(config),
               "-d", str(site_dir)]
    started = time.perf_counter()
    process = subprocess.run(command, cwd=config.parent, env=env, capture_output=True,
                             text=True)
    elapsed = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"build of {config} failed:\n{process.stdout}\n{process.stderr}")
    return elapsed, process


def _config_without_hooks(config_file: Path, destination: Path) -> Path:
    """The same site with the hooks removed; gen-files stays, without our data script (which
    needs the hooks), so the baseline still pays for the plugin itself. Our highlight formatter
    goes too (SuperFences highlights with its own), so the baseline runs none of our code."""
    config = load_config_file(config_file)
    config.pop("hooks", None)
    config["markdown_extensions"] = [_without_our_fences(e)
                                     for e in config.get("markdown_extensions", [])]
    config["plugins"] = [{"gen-files": {"scripts": []}}
                         if (isinstance(p, dict) and "gen-files" in p) or p == "gen-files" else p
                         for p in config.get("plugins", [])]
    config["docs_dir"] = str((config_file.parent / config.get("docs_dir", "docs")).resolve())
    path = destination / "mkdocs-without-hooks.yml"
    path.write_text(yaml.dump(config, sort_keys=False))
    return path


def _without_our_fences(extension: Any) -> Any:
    """A `markdown_extensions` entry without the SuperFences custom fences that this package
    formats."""
    if not isinstance(extension, dict) or "pymdownx.superfences" not in extension:
        return extension
    options = dict(extension["pymdownx.superfences"] or {})
    fences = [f for f in options.pop("custom_fences", [])
              if not getattr(f.get("format"), "__module__", "").startswith("build_hooks")]
    if fences:
        options["custom_fences"] = fences
    return {"pymdownx.superfences": options} if options else "pymdownx.superfences"


def _prerendered_config(plain_config: Path, config_file: Path, destination: Path) -> Path:
    """The same pages with the directives already expanded, built without hooks (and so with
    nothing reused, highlighted code included): splits what a warm rebuild adds into rendering
    the hooks' content from scratch and the hooks' own work, less what the cache saves."""
    from mkdocs.config import load_config

    from build_hooks.pipeline import build_site
    from build_hooks.render.directives import PageContext, expand_directives
    from build_hooks.spec.settings import load_settings

    loaded = load_config(str(config_file))
    settings = load_settings(loaded.extra, config_file)
    site = build_site(settings, lambda message: None)
    docs = Path(loaded.docs_dir)
    pages = {p.relative_to(docs).as_posix() for p in docs.rglob("*.md")}
    target = destination / "prerendered-docs"
    for page in pages:
        context = PageContext(uri=page, pages=pages, project_dir=settings.project_dir)
        (target / page).parent.mkdir(parents=True, exist_ok=True)
        (target / page).write_text(expand_directives((docs / page).read_text(), context,
                                                     lambda: site))
    config = load_config_file(plain_config)
    config["docs_dir"] = str(target)
    path = destination / "mkdocs-prerendered.yml"
    path.write_text(yaml.dump(config, sort_keys=False))
    return path


def imported_modules(importtime_log: str) -> set[str]:
    """Module names from `python -X importtime` output."""
    names = set()
    for line in importtime_log.splitlines():
        match = re.match(r"import time:\s+\d+\s+\|\s+\d+\s+\|\s+(\S+)", line.strip())
        if match:
            names.add(match.group(1))
    return names


def _warm_comparison(config: Path, scratch: Path, env: dict[str, str], repeats: int,
                     log: Log, label: str) -> dict[str, Any]:
    """Warm rebuilds against the hook-less and the pre-rendered builds of one site copy."""
    log(f"{label}: warming the cache (measures whatever is missing)")
    _build(config, scratch / "warmup", env)
    plain = _config_without_hooks(config, scratch)
    prerendered = _prerendered_config(plain, config, scratch)
    times: dict[str, list[float]] = {"warm": [], "plain": [], "pre": []}
    for index in range(repeats):
        log(f"{label}, round {index + 1}/{repeats}: warm rebuild, without hooks, pre-rendered")
        for name, path in (("warm", config), ("plain", plain), ("pre", prerendered)):
            times[name].append(_build(path, scratch / name, env)[0])
    warm, without = statistics.median(times["warm"]), statistics.median(times["plain"])
    added_mb = (html_bytes(scratch / "warm") - html_bytes(scratch / "plain")) / 1e6
    return {"warm_rebuild_s": times["warm"], "without_hooks_s": times["plain"],
            "prerendered_s": times["pre"], "warm_median_s": warm,
            "without_hooks_median_s": without,
            "prerendered_median_s": statistics.median(times["pre"]), "ratio": warm / without,
            "html_mb": html_bytes(scratch / "warm") / 1e6, "hooks_html_mb": added_mb,
            "extra_s_per_added_mb": (warm - without) / added_mb if added_mb > 0 else None,
            "topics": len(discover_topics(project_folders(config)[1]))}


def _serve_timings(config: Path, env: dict[str, str], repeats: int, log: Log
                   ) -> dict[str, Any]:
    """Prose edits and one snippet edit under `properdocs serve`, on a copy of the site."""
    docs, snippets = project_folders(config)
    page = docs / PROSE_PAGE
    snippet = snippets / SNIPPET_TOPIC / "jax.py"
    original_page, original_snippet = page.read_text(), snippet.read_text()
    log("Serve: starting `properdocs serve` on a copy of the site")
    with ServeSession(config, env) as session:
        prose = []
        for index in range(repeats):
            log(f"Serve: prose edit {index + 1}/{repeats} of "
                f"{page.relative_to(config.parent).as_posix()}")
            edited = original_page + f"\nA sentence added by make bench ({index}).\n"
            prose.append(session.time_edit(page, edited)[0])
        log(f"Serve: one-snippet edit of {snippet.relative_to(config.parent).as_posix()} (that "
            "topic is measured again)")
        snippet_s, lines = session.time_edit(snippet, original_snippet +
                                             "\n# A comment added by make bench.\n")
    return {"prose_edit_s": prose, "prose_edit_median_s": statistics.median(prose),
            "snippet_edit_s": snippet_s, "snippet_edit_topics_measured": measured_topics(lines),
            "prose_page": PROSE_PAGE.as_posix(), "snippet_topic": SNIPPET_TOPIC}


def _cold_build(config: Path, scratch: Path, env: dict[str, str], quick: bool, log: Log
                ) -> dict[str, Any]:
    """A build from an empty comparison cache; its wall time, split, and worker starts."""
    label = "quick" if quick else "full"
    log(f"Cold build, {label} measurements: empty cache")
    # BENCH_FULL_CACHE_DIR keeps the full cold build's records (an empty folder to fill), so
    # the measurements it took can be saved as the machine's results afterwards.
    cache = os.environ.get("BENCH_FULL_CACHE_DIR") if not quick else None
    cold_env = {**env, "COMPARISON_CACHE_DIR": cache or str(scratch / f"cold-cache-{label}")}
    if cache and any(Path(cache).glob("*.json")):
        raise ValueError(f"BENCH_FULL_CACHE_DIR={cache} already holds records; a cold build "
                         "needs an empty folder: give a new one")
    cold_env.pop("COMPARISON_QUICK", None)
    if quick:
        cold_env["COMPARISON_QUICK"] = "1"
    site = scratch / f"cold-{label}"
    command = [sys.executable, "-m", "properdocs", "build", "-f", str(config), "-d", str(site)]
    started = time.perf_counter()
    process = subprocess.run(command, cwd=config.parent, env=cold_env, capture_output=True,
                             text=True)
    seconds = time.perf_counter() - started
    log_text = process.stdout + process.stderr
    result: dict[str, Any] = {
        "seconds": seconds, "ok": process.returncode == 0,
        "cache_dir": cold_env["COMPARISON_CACHE_DIR"],
        "budget_s": QUICK_COLD_BUDGET_S if quick else FULL_COLD_BUDGET_S,
        "topics_measured": len(re.findall(r"Measuring topic \d+/\d+", log_text)),
        "worker_starts": {name: len(re.findall(rf"Starting the {name} worker \(", log_text))
                          for name in ("JAX", "PyTorch")},
        # Whether this build made the compiler start-up the machine keeps, or found it
        # (run/compiler_start.py): an earlier build on the machine saves that much.
        "compiler_start_made": sorted(set(re.findall(
            r"Starting the (\S+) compilers once in a process of their own", log_text)))}
    # One start per framework, and one more for each topic that runs in workers of its own.
    result["expected_worker_starts"] = 1 + sum(
        1 for topic in discover_topics(project_folders(config)[1]) if topic.env)
    if process.returncode != 0:
        result["log_tail"] = log_text[-4000:]
    elif (site / "results.json").is_file():
        result["split"] = cold_split(json.loads((site / "results.json").read_text()), seconds)
    return result


def _seed_cache(records: Path, config: Path) -> None:
    """Copy a cold build's topic records into the comparison cache of a project copy (its
    mkdocs.yml, as `copy_project` returns it)."""
    cache = config.parent / folder_names(load_config_file(config))[2]
    cache.mkdir(parents=True, exist_ok=True)
    for record in records.glob("*.json"):
        shutil.copyfile(record, cache / record.name)


def run_bench(config_file: Path, repeats: int, log: Log, full: bool = False,
              serve_repeats: int = 3) -> dict[str, Any]:
    env = {**os.environ, **QUIET}
    env.pop("COMPARISON_REFRESH", None)
    env.pop("COMPARISON_QUICK", None)
    # Measure what a user sees: Python caches compiled bytecode unless told not to (some
    # sandboxes set this variable; then every build would recompile this package from source).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.TemporaryDirectory(prefix="jax-vs-pytorch-bench-") as scratch:
        scratch_dir = Path(scratch)
        whole = copy_project(config_file, scratch_dir / "whole")
        small = copy_project(config_file, scratch_dir / "small", SMALL_SITE)
        cold: dict[str, Any] = {}
        if full:
            # First, so that its records warm the copies' caches: a full cold build is what
            # the warm rebuilds would otherwise start with when the project's cache is empty.
            cold["full"] = _cold_build(whole, scratch_dir, env, False, log)
            for copy in (whole, small):
                _seed_cache(Path(cold["full"]["cache_dir"]), copy)
        sites = {"all_topics": _warm_comparison(whole, scratch_dir / "whole-builds", env,
                                                repeats, log, "Whole site"),
                 "three_topics": _warm_comparison(small, scratch_dir / "small-builds", env,
                                                  repeats, log, "Three topics")}
        document = json.loads((scratch_dir / "whole-builds" / "warm" / "results.json")
                              .read_text())
        shares = _trust_shares(document)
        _, traced = _build(whole, scratch_dir / "importtime", env, "-X", "importtime")
        framework_modules = sorted(m for m in imported_modules(traced.stderr)
                                   if m.split(".")[0] in ("torch", "jax", "jaxlib"))
        # A copy of the whole-site copy, whose cache the warm rebuilds filled: serve then
        # starts warm whether the project's own cache is full, quick-only or empty.
        serve = _serve_timings(copy_project(whole, scratch_dir / "serve"), env,
                               serve_repeats, log)
        cold = {"quick": _cold_build(whole, scratch_dir, env, True, log), **cold}
    machine = host.machine()
    serve["prose_ratio"] = serve["prose_edit_median_s"] / sites["all_topics"]["warm_median_s"]
    report: dict[str, Any] = {
        "machine_name": host.machine_name(machine), "machine": machine,
        "measured_at": host.now_iso(), "repeats": repeats,
        "sites": sites, "warm_target": WARM_TARGET,
        "serve": serve, "serve_target": SERVE_TARGET,
        "framework_modules_imported_by_mkdocs": framework_modules,
        "cold": cold, **shares,
    }
    return write_versioned(machine_dir(config_file.parent, report["machine_name"]) / "bench.json",
                           BENCH_FORMAT, 2, report)


def _trust_shares(document: dict[str, Any]) -> dict[str, int]:
    """How many of the site's measured rows are noisy, and how many of its comparisons are
    inconclusive (the goal: at most one in ten of each)."""
    rows = [row for row in document["results"] if row.get("status") == "ok"]
    compared = [entry for entry in document["comparisons"] if entry.get("outcome")]
    return {"rows": len(rows), "noisy_rows": sum(bool(row.get("noisy")) for row in rows),
            "comparisons": len(compared),
            "inconclusive": sum(entry["outcome"] == "inconclusive" for entry in compared)}


def meets_targets(report: dict[str, Any]) -> dict[str, bool]:
    """Each goal of the bench, met or not."""
    whole, small = report["sites"]["all_topics"], report["sites"]["three_topics"]
    goals = {
        "warm rebuild within 1.10x of the hook-less build": whole["ratio"] <= report[
            "warm_target"],
        "cost per added MB flat from 3 topics to all (within 1.25x)": bool(
            whole["extra_s_per_added_mb"] is not None and small["extra_s_per_added_mb"]
            and whole["extra_s_per_added_mb"] <= 1.25 * small["extra_s_per_added_mb"]),
        "prose edit under serve within 1.2x the warm rebuild":
            report["serve"]["prose_ratio"] <= report["serve_target"],
        "a snippet edit measures only its topic":
            report["serve"]["snippet_edit_topics_measured"] == [report["serve"]["snippet_topic"]],
        "no torch/jax module in the MkDocs process":
            not report["framework_modules_imported_by_mkdocs"],
    }
    for label, cold in report["cold"].items():
        goals[f"cold {label} build within {cold['budget_s'] / 60:g} min"] = \
            cold["ok"] and cold["seconds"] <= cold["budget_s"]
        goals[f"cold {label} build imports each framework once (once more per topic with "
              "an environment of its own)"] = \
            all(count == cold["expected_worker_starts"] for count in cold["worker_starts"].values())
    return goals


def format_report(report: dict[str, Any]) -> str:
    machine = report["machine"]
    lines = [f"Build costs on {machine['cpu']} ({machine['schedulable_cores']} cores, "
             f"{report['machine_name']}), {report['measured_at']}"]
    for key, label in (("all_topics", "all topics"), ("three_topics", "three topics")):
        site = report["sites"][key]
        per_mb = site["extra_s_per_added_mb"]
        lines += [
            f"  warm rebuild, {label} ({site['topics']}; {site['html_mb']:.1f} MB of HTML)",
            f"    warm rebuild (all from cache)  median {site['warm_median_s']:.2f} s over "
            f"{len(site['warm_rebuild_s'])} runs",
            f"    same site without the hooks    median {site['without_hooks_median_s']:.2f} s",
            f"    ratio                          {site['ratio']:.2f} (target "
            f"{report['warm_target']:.2f})",
            f"    same pages pre-rendered        median {site['prerendered_median_s']:.2f} s "
            f"(rendering the hooks' content: "
            f"{site['prerendered_median_s'] - site['without_hooks_median_s']:+.2f} s; the "
            f"hooks' own work less what they reuse: "
            f"{site['warm_median_s'] - site['prerendered_median_s']:+.2f} s)",
            f"    the hooks add {site['hooks_html_mb']:.2f} MB of HTML; seconds added per MB: "
            + (f"{per_mb:.2f}" if per_mb is not None else "-")]
    serve = report["serve"]
    lines += [
        f"  serve, prose edit of {serve['prose_page']}: median {serve['prose_edit_median_s']:.2f}"
        f" s to the reload message ({serve['prose_ratio']:.2f}x the warm rebuild; target "
        f"{report['serve_target']}x)",
        f"  serve, one-snippet edit of {serve['snippet_topic']}: {serve['snippet_edit_s']:.1f} s;"
        f" topics measured again: {', '.join(serve['snippet_edit_topics_measured']) or 'none'}",
        f"  the site's measurements: {report['noisy_rows']} of {report['rows']} rows noisy "
        f"(IQR above the threshold); {report['inconclusive']} of {report['comparisons']} "
        "comparisons inconclusive",
        "  torch/jax modules imported by the MkDocs process on a warm rebuild: "
        + (", ".join(report["framework_modules_imported_by_mkdocs"]) or "none")]
    for label, cold in report["cold"].items():
        starts = cold["worker_starts"]
        lines.append(f"  cold build, {label} measurements ({cold['topics_measured']} topics): "
                     f"{cold['seconds']:.0f} s, budget {cold['budget_s']:.0f} s; worker "
                     f"starts JAX {starts['JAX']}, PyTorch {starts['PyTorch']} (expected "
                     f"{cold['expected_worker_starts']} each)"
                     + ("" if cold["ok"] else " -- THE BUILD FAILED"))
        if "compiler_start_made" in cold:
            made = cold["compiler_start_made"]
            lines.append("    compiler start-up kept on this machine: "
                         + (f"made by this build ({', '.join(made)})" if made
                            else "found, made by an earlier build"))
        if "split" in cold:
            lines += format_split(cold["split"], f"where the {label} cold build's time went")
    goals = meets_targets(report)
    lines += [f"  {'met ' if met else 'NOT MET'}  {goal}" for goal, met in goals.items()]
    return "\n".join(lines)
