"""Variants measured in fresh processes: time from a process's start to its first result.

A variant with `fresh_process = "cold"` or `"warm"` in topic.toml is not timed in the build's
long-lived workers. Each sample is a new worker process of its own, started with a persistent
compilation cache folder (JAX's persistent cache, with every program cached however quick its
compile; TorchInductor's FX graph and AOTAutograd caches): the time from just before the process
is spawned to the end of the variant's first call (the child reads the same system-wide
monotonic clock). It includes the interpreter's start, importing the framework, `setup` and the
first call with whatever it compiles or loads from the cache.

- cold: every process gets a new cache folder that holds only what starting the compilers once
  leaves there (a copy of the folder one untimed process made by running the harness's
  compiler warm-up, kept across builds: run/compiler_start.py; Inductor's instruction-set
  probes, say), as on a machine that has used the framework before but never ran this code;
- warm: a folder starts as a cold one does (a copy of the compiler start-up), one process runs
  the variant untimed in it, then every timed process starts with that folder, as on the
  second run of a script on that machine.

The timed runs alternate between the frameworks, one process at a time; the untimed ones (the
warm cache's filling, making a missing compiler start-up folder) run side by side. Quick mode
(drafts and tests, whose pages say so) overlaps the timed processes too, as it does the first
calls: every process of a size's fresh variants, both frameworks' and the untimed fillings,
shares two slots, one process of a variant and framework at a time (they share its capture
files and its warm cache). Each run records its own breakdown (import, first call,
compilations and cache hits by the framework's own counters). A timed process is killed once
its result is in: its exit (Inductor's compile workers shutting down take a second or more)
is nobody's measurement, and the next process is not started while it is still exiting.
"""

from __future__ import annotations

import functools
import shutil
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from build_hooks.core import stats
from build_hooks.core.protocol import Prepare, error_record
from build_hooks.run.compiler_start import CompilerStarts, cache_environment
from build_hooks.run.parallel import side_by_side
from build_hooks.run.process import WorkerFailure, WorkerProcess
from build_hooks.spec.settings import Settings


def run_once(framework: str, request: Prepare, cache_dir: Path, base_env: dict[str, str],
             settings: Settings, folder: Path, timeout: float,
             exit_cleanly: bool = True) -> dict[str, Any]:
    """One fresh process: start it with `cache_dir`, ask for the variant's first call, then
    ask it to exit (or kill it, with `exit_cleanly` false: its captures and cache entries are
    written before it answers). Returns the worker's variant record with `to_first_result_s`
    and `import_s` added, or a record with `status` "timeout"/"crashed"/"error" and an
    `error`."""
    folder.mkdir(parents=True, exist_ok=True)
    worker = WorkerProcess(framework, folder, settings.memory_limit_mb,
                           cache_environment(base_env, cache_dir), cwd=settings.project_dir)
    (variant,) = request.variants
    spawned = time.monotonic()
    try:
        worker.start(timeout)
        if worker.unavailable is not None:
            return {"status": "not_run", "error": worker.unavailable}
        response = worker.request(request, timeout - (time.monotonic() - spawned))
    except WorkerFailure as failure:
        message = (f"timed out: killed after {settings.timeout_s:g} s (the per-topic timeout)"
                   if failure.kind == "timeout" else f"crashed: {failure.message}")
        return {"status": failure.kind, "error": error_record(
            "Timeout" if failure.kind == "timeout" else "WorkerCrash",
            f"a fresh process {message}")}
    finally:
        if exit_cleanly:
            worker.stop()
        else:
            worker.kill()
    if response["setup"]["status"] != "ok":
        return {"status": response["setup"]["status"], "error": response["setup"].get("error")}
    info = dict(response["variants"][variant])
    if info.get("status") == "ok":
        info["to_first_result_s"] = info["first_result_at"] - spawned
        info["import_s"] = (worker.environment or {}).get("import_s")
    return info


QUICK_SLOTS = 2
"""Processes at once in quick mode, shared by all of a size's fresh variants: both
frameworks' timed runs and the warm caches' fillings."""


@dataclass(frozen=True)
class FreshVariant:
    """One fresh-process variant of a topic at one size, for every framework it runs on."""

    name: str
    state: str
    """"cold" or "warm": the compilation cache each timed process starts with."""
    requests: dict[str, Prepare]
    """framework -> the variant's cut-down prepare request (fresh_request)."""
    prefixes: dict[str, str]
    """framework -> the topic's capture prefix, where the last run's output is copied."""


class FreshRuns:
    """The fresh-process samples of one topic at one size, for every framework."""

    def __init__(self, settings: Settings, base_env: dict[str, str], folder: Path,
                 starts: CompilerStarts):
        self.settings = settings
        self.base_env = base_env
        self.folder = folder
        self.starts = starts
        self._spent_lock = threading.Lock()

    def measure(self, variant: str, state: str, requests: dict[str, Prepare],
                prefixes: dict[str, str], remaining: dict[str, float],
                spent: dict[str, float]) -> dict[str, dict[str, Any]]:
        """Per framework in `requests`: the variant's record with `samples` and `fresh`.
        `remaining` holds each framework's time left in the topic; `spent` is added to.
        The last run's captures and output are copied to `prefixes` (the topic's usual
        prefix per framework), where the page and the parity check read them."""
        runs = max(2, self.settings.measure.min_samples)
        base = self.folder / f"fresh-{variant}"
        records: dict[str, dict[str, Any]] = {}
        order = list(requests)
        if state == "warm":  # fill each framework's cache once, untimed, side by side
            filled = side_by_side({fw: functools.partial(
                self._fill, fw, requests, base / fw, remaining, spent) for fw in order})
            for framework, info in filled.items():  # a failed filling times nothing
                records[framework] = {"priming": info} if info.get("status") == "ok" else \
                    {"priming": info, "failed": info}
        else:  # what starting the compilers leaves in a cache folder, copied for each run
            made = side_by_side({fw: functools.partial(self._template, fw, base / fw / "template",
                                                       remaining, spent) for fw in order})
            for framework, info in made.items():
                if info["status"] != "ok":
                    records[framework] = {"failed": info, "priming": info}
        for framework in order:
            records.setdefault(framework, {})
        for index in range(runs):
            turn = [framework for framework in (order if index % 2 == 0 else order[::-1])
                    if not records[framework].get("failed")]
            for framework in turn:
                self._sample(framework, index, state, base, requests, records[framework],
                             remaining, spent)
        return {framework: self._combine(framework, variant, state, record, prefixes,
                                         requests[framework])
                for framework, record in records.items()}

    def measure_pooled(self, variants: list[FreshVariant], remaining: dict[str, float],
                       spent: dict[str, float]) -> dict[str, dict[str, dict[str, Any]]]:
        """Quick mode (the pages say so): what `measure` gives for each of `variants`, by
        variant name, with all their processes sharing QUICK_SLOTS slots. The warm caches'
        fillings come first (their variant's timed runs wait for them), then the timed runs
        in the order `measure` takes them; a variant and framework never has two processes
        at once (they share its captures and its warm cache)."""
        runs = max(2, self.settings.measure.min_samples)
        records: dict[str, dict[str, dict[str, Any]]] = {
            v.name: {framework: {} for framework in v.requests} for v in variants}
        bases = {v.name: self.folder / f"fresh-{v.name}" for v in variants}

        def start_ups(framework: str) -> None:  # one framework's copies after another
            for v in variants:
                if framework in v.requests:
                    info = self._template(framework, bases[v.name] / framework / (
                        "cache" if v.state == "warm" else "template"), remaining, spent)
                    if info["status"] != "ok":
                        records[v.name][framework].update(failed=info, priming=info)

        frameworks = list(dict.fromkeys(fw for v in variants for fw in v.requests))
        side_by_side({fw: functools.partial(start_ups, fw) for fw in frameworks})
        jobs: list[tuple[FreshVariant, str, int | None]] = [
            (v, framework, None) for v in variants if v.state == "warm" for framework in v.requests]
        for index in range(runs):
            for v in variants:
                order = list(v.requests)
                jobs += [(v, framework, index) for framework in
                         (order if index % 2 == 0 else order[::-1])]
        pending = list(jobs)
        busy: set[tuple[str, str]] = set()
        filled: set[tuple[str, str]] = set()
        errors: list[BaseException] = []
        changed = threading.Condition()

        def ready(job: tuple[FreshVariant, str, int | None]) -> bool:
            v, framework, index = job
            key = (v.name, framework)
            return key not in busy and (index is None or v.state == "cold" or key in filled)

        def take() -> tuple[FreshVariant, str, int | None] | None:
            with changed:
                while True:
                    pending[:] = [] if errors else [
                        job for job in pending if not records[job[0].name][job[1]].get("failed")]
                    if not pending:
                        return None
                    job = next((job for job in pending if ready(job)), None)
                    if job is not None:
                        pending.remove(job)
                        busy.add((job[0].name, job[1]))
                        return job
                    changed.wait()

        def slot() -> None:
            while (job := take()) is not None:
                v, framework, index = job
                record = records[v.name][framework]
                try:
                    if index is None:  # the warm cache's filling, untimed
                        base = bases[v.name] / framework
                        record["priming"] = self._run(framework, v.requests, base / "cache",
                                                      base / "priming", remaining, spent)
                        if record["priming"].get("status") != "ok":
                            record["failed"] = record["priming"]
                    else:
                        self._sample(framework, index, v.state, bases[v.name], v.requests,
                                     record, remaining, spent)
                except BaseException as error:
                    with changed:
                        errors.append(error)
                    raise
                finally:
                    with changed:
                        busy.discard((v.name, framework))
                        if index is None:
                            filled.add((v.name, framework))
                        changed.notify_all()

        side_by_side({number: slot for number in range(QUICK_SLOTS)})
        return {v.name: {framework: self._combine(framework, v.name, v.state, record,
                                                  v.prefixes, v.requests[framework])
                         for framework, record in records[v.name].items()}
                for v in variants}

    def _sample(self, framework: str, index: int, state: str, base: Path,
                requests: dict[str, Prepare], record: dict[str, Any],
                remaining: dict[str, float], spent: dict[str, float]) -> None:
        """One timed process of `framework`, added to its `record`."""
        cache = base / framework / ("cache" if state == "warm" else f"cold-{index}")
        if state == "cold" and (base / framework / "template").is_dir():
            shutil.copytree(base / framework / "template", cache, dirs_exist_ok=True)
        info = self._run(framework, requests, cache, base / framework / f"run-{index}",
                         remaining, spent, exit_cleanly=False)
        record.setdefault("runs", []).append(info)
        if info.get("status") != "ok":
            record["failed"] = info
        elif state == "cold":
            shutil.rmtree(cache, ignore_errors=True)  # cold caches are used once

    def _template(self, framework: str, folder: Path, remaining: dict[str, float],
                  spent: dict[str, float]) -> dict[str, Any]:
        started = time.monotonic()
        info = self.starts.copy_into(framework, folder,
                                     max(remaining[framework] - spent[framework], 0.0))
        with self._spent_lock:
            spent[framework] += time.monotonic() - started
        return info

    def _fill(self, framework: str, requests: dict[str, Prepare], folder: Path,
              remaining: dict[str, float], spent: dict[str, float]) -> dict[str, Any]:
        """The warm cache: the compiler start-up, then the variant run once (untimed)."""
        made = self._template(framework, folder / "cache", remaining, spent)
        if made["status"] != "ok":
            return made
        return self._run(framework, requests, folder / "cache", folder / "priming", remaining,
                         spent)

    def _run(self, framework: str, requests: dict[str, Prepare], cache: Path, folder: Path,
             remaining: dict[str, float], spent: dict[str, float],
             exit_cleanly: bool = True) -> dict[str, Any]:
        started = time.monotonic()
        info = run_once(framework, requests[framework], cache, self.base_env, self.settings,
                        folder, max(remaining[framework] - spent[framework], 0.0), exit_cleanly)
        with self._spent_lock:  # quick mode runs processes of one framework at once
            spent[framework] += time.monotonic() - started
        return info

    @staticmethod
    def _combine(framework: str, variant: str, state: str, record: dict[str, Any],
                 prefixes: dict[str, str], request: Prepare) -> dict[str, Any]:
        runs = [info for info in record.get("runs", []) if info.get("status") == "ok"]
        failed = record.get("failed") or (record.get("priming") if record.get(
            "priming", {}).get("status") not in (None, "ok") else None)
        summary = [{"to_first_result_s": info["to_first_result_s"],
                    "import_s": info.get("import_s"),
                    "first_call_s": info.get("first_call_s"),
                    "compilations": info.get("compilations"),
                    "peak_bytes": (info.get("peak_memory") or {}).get("peak_bytes")}
                   for info in runs]
        fresh: dict[str, Any] = {"cache": state, "runs": summary}
        if record.get("priming", {}).get("status") == "ok":
            priming = record["priming"]
            fresh["priming"] = {"first_call_s": priming.get("first_call_s"),
                                "compilations": priming.get("compilations")}
        if failed is not None:
            return {"status": failed.get("status", "error"), "error": failed.get("error"),
                    "fresh": fresh, "samples": []}
        last_prefix = Path(request.capture_prefix)
        for suffix in ("stdout", "stderr", "npz"):
            source = Path(f"{last_prefix}.{variant}.{suffix}")
            if source.exists():
                shutil.copyfile(source, f"{prefixes[framework]}.{variant}.{suffix}")
        first = runs[0]
        peaks = [run["peak_bytes"] for run in summary if run["peak_bytes"] is not None]
        peak = {"peak_bytes": int(stats.median(peaks)),
                "method": (first.get("peak_memory") or {}).get("method")} if peaks else None
        return {"status": "ok", "peak_memory": peak,
                "first_call_s": first.get("first_call_s"), "number": 1,
                "leaves": runs[-1].get("leaves"), "blockable": runs[-1].get("blockable"),
                "compilations": first.get("compilations"), "timed_compilations": 0,
                "samples": [info["to_first_result_s"] for info in runs], "fresh": fresh,
                "rounds": len(runs), "stopped": "fresh processes"}


def fresh_request(request: Prepare, variant: str, prefix: Path) -> Prepare:
    """The topic's prepare request cut down to one variant's first call, captured at `prefix`."""
    return replace(request, variants=[variant], capture_prefix=str(prefix), calibrate=False,
                   expect_error={k: v for k, v in request.expect_error.items() if k == variant})
