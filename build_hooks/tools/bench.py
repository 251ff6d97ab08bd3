"""`make bench`: what the build machinery costs, measured side by side in one run.

1. A warm rebuild (everything from the cache) against a build of the same site with the hooks
   removed (and so our gen-files script and highlight formatter, which need them), alternated,
   several times each: the ratio of medians must stay at or under 1.3. The difference includes
   rendering what the hooks add to the pages (code, output, tables), not only the hooks' own
   work; a third build, of the pages pre-rendered, splits the two.
2. `python -X importtime -m mkdocs build` on a warm rebuild: no module of torch or jax may be
   imported by the MkDocs process.
3. A cold build (empty cache, quick measurements): each framework's worker must start once, so
   the framework is imported once per build, not once per snippet.
"""

from __future__ import annotations

import json
import os
import re
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

QUIET = {"DISABLE_MKDOCS_2_WARNING": "true", "NO_MKDOCS_2_WARNING": "1"}
WARM_LIMIT = 1.3
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


def load_config_file(path: Path) -> dict[str, Any]:
    """A config file as MkDocs reads it (its YAML loader resolves `!ENV` and names Python
    objects with `!!python/name:`, as the highlight formatter is named); `yaml.dump` writes those
    names back."""
    from mkdocs.utils.yaml import yaml_load

    with open(path, encoding="utf-8") as stream:
        return yaml_load(stream)


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


def run_bench(config_file: Path, repeats: int, log: Log) -> dict[str, Any]:
    env = {**os.environ, **QUIET}
    env.pop("COMPARISON_REFRESH", None)
    # Measure what a user sees: Python caches compiled bytecode unless told not to (some
    # sandboxes set this variable; then every build would recompile this package from source).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.TemporaryDirectory(prefix="jax-vs-pytorch-bench-") as scratch:
        scratch_dir = Path(scratch)
        log("Warming the cache (measures whatever is missing)")
        _build(config_file, scratch_dir / "warmup", env)
        plain = _config_without_hooks(config_file, scratch_dir)
        prerendered = _prerendered_config(plain, config_file, scratch_dir)
        warm_times, plain_times, prerendered_times = [], [], []
        for index in range(repeats):
            log(f"Round {index + 1}/{repeats}: warm rebuild, the site without hooks, the same "
                "pages pre-rendered")
            warm_times.append(_build(config_file, scratch_dir / "warm", env)[0])
            plain_times.append(_build(plain, scratch_dir / "plain", env)[0])
            prerendered_times.append(_build(prerendered, scratch_dir / "pre", env)[0])
        shares = _trust_shares(json.loads((scratch_dir / "warm" / "results.json").read_text()))
        _, traced = _build(config_file, scratch_dir / "importtime", env, "-X", "importtime")
        modules = imported_modules(traced.stderr)
        framework_modules = sorted(m for m in modules
                                   if m.split(".")[0] in ("torch", "jax", "jaxlib"))
        log("Cold build: empty cache, quick measurements")
        cold_env = {**env, "COMPARISON_CACHE_DIR": str(scratch_dir / "cold-cache"),
                    "COMPARISON_QUICK": "1"}
        command = [sys.executable, "-m", "properdocs", "build", "-f", str(config_file),
                   "-d", str(scratch_dir / "cold")]
        started = time.perf_counter()
        cold = subprocess.run(command, cwd=config_file.parent, env=cold_env,
                              capture_output=True, text=True)
        cold_seconds = time.perf_counter() - started
        cold_log = cold.stdout + cold.stderr
    machine = host.machine()
    warm, without = statistics.median(warm_times), statistics.median(plain_times)
    starts = {label: len(re.findall(rf"Starting the {label} worker", cold_log))
              for label in ("JAX", "PyTorch")}
    report: dict[str, Any] = {
        "machine_name": host.machine_name(machine), "machine": machine,
        "measured_at": host.now_iso(),
        "warm_rebuild_s": warm_times, "without_hooks_s": plain_times,
        "prerendered_s": prerendered_times,
        "warm_median_s": warm, "without_hooks_median_s": without, "ratio": warm / without,
        "prerendered_median_s": statistics.median(prerendered_times),
        "ratio_limit": WARM_LIMIT,
        "framework_modules_imported_by_mkdocs": framework_modules,
        "cold_build_s": cold_seconds, "cold_build_ok": cold.returncode == 0,
        "cold_topics_measured": len(re.findall(r"Measuring topic \d+/\d+", cold_log)),
        "cold_worker_starts": starts,
        **shares,
    }
    return write_versioned(machine_dir(config_file.parent, report["machine_name"]) / "bench.json",
                           BENCH_FORMAT, 1, report)


def _trust_shares(document: dict[str, Any]) -> dict[str, int]:
    """How many of the site's measured rows are noisy, and how many of its comparisons are
    inconclusive (the goal: at most one in ten of each)."""
    rows = [row for row in document["results"] if row.get("status") == "ok"]
    compared = [entry for entry in document["comparisons"] if entry.get("outcome")]
    return {"rows": len(rows), "noisy_rows": sum(bool(row.get("noisy")) for row in rows),
            "comparisons": len(compared),
            "inconclusive": sum(entry["outcome"] == "inconclusive" for entry in compared)}


def format_report(report: dict[str, Any]) -> str:
    imports = report["framework_modules_imported_by_mkdocs"]
    starts = report["cold_worker_starts"]
    ok = (report["ratio"] <= report["ratio_limit"] and not imports and
          all(count == 1 for count in starts.values()) and report["cold_build_ok"])
    return "\n".join([
        f"Build costs on {report['machine']['cpu']} ({report['machine']['schedulable_cores']} "
        f"cores, {report['machine_name']}), {report['measured_at']}",
        f"  warm rebuild (all from cache)  median {report['warm_median_s']:.2f} s "
        f"over {len(report['warm_rebuild_s'])} runs",
        f"  same site without the hooks    median {report['without_hooks_median_s']:.2f} s",
        f"  ratio                          {report['ratio']:.2f} (limit "
        f"{report['ratio_limit']})",
        f"  same pages pre-rendered        median {report['prerendered_median_s']:.2f} s "
        f"(no hooks, nothing reused: rendering the hooks' content costs "
        f"{report['prerendered_median_s'] - report['without_hooks_median_s']:+.2f} s; the hooks' "
        f"work, less what reusing highlighted code saves, "
        f"{report['warm_median_s'] - report['prerendered_median_s']:+.2f} s)",
        f"  the site's measurements: {report['noisy_rows']} of {report['rows']} rows noisy "
        f"(IQR above the threshold); {report['inconclusive']} of {report['comparisons']} "
        "comparisons inconclusive",
        f"  torch/jax modules imported by the MkDocs process on a warm rebuild: "
        f"{', '.join(imports) if imports else 'none'}",
        f"  cold build ({report['cold_topics_measured']} topics, quick measurements) "
        f"{report['cold_build_s']:.1f} s; worker starts: JAX {starts['JAX']}, "
        f"PyTorch {starts['PyTorch']} (each framework imported once)",
        "  OK" if ok else "  FAILED: see the figures above",
    ])
