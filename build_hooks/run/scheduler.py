"""Run topics in the workers, alternating the frameworks, and collect raw results.

For each size of a topic: both workers prepare (setup, first calls, calibration), then the
steady-state blocks are taken in rounds, JAX then PyTorch then PyTorch then JAX, so that drift
on the machine (another process, thermal state) hits both sides alike. A turn that follows the
other framework starts with `settle_blocks` blocks that are run and discarded: the block right
after a switch was measured slower, a cost of the switch rather than of the framework. After
the first `rounds`, a variant whose verdict is still inconclusive (and whose ratio's interval
is wider than `target_ci_width`) gets more rounds, up to `max_rounds` or its time budget. A
timed request is the only one in flight: measurements never overlap. Untimed work runs side by
side (run/parallel.py): starting the workers, warming their compilers up, and in quick mode
(whose pages say so) the two sides' preparation and the fresh processes, two at a time. Each
framework has `timeout_s` per topic.
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from build_hooks import FRAMEWORK_LABELS, FRAMEWORKS
from build_hooks.core import Log
from build_hooks.core.protocol import (
    Measure,
    Prepare,
    Release,
    Request,
    WarmUp,
    error_record,
)
from build_hooks.core.stats import compare
from build_hooks.run.capture import read_capture
from build_hooks.run.compiler_start import WORKER_CACHES
from build_hooks.run.fresh import FreshRuns, FreshVariant, fresh_request
from build_hooks.run.parallel import side_by_side
from build_hooks.run.pool import WorkerPool
from build_hooks.run.process import WorkerFailure
from build_hooks.spec.settings import Settings
from build_hooks.spec.topics import REQUIREMENTS, SERIES_MAX_POINTS, Pair, Topic


@dataclass
class TopicRun:
    """Raw results of one topic, as stored in the cache (statistics are derived later)."""

    topic: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    setups: list[dict[str, Any]] = field(default_factory=list)
    parity_checks: list[dict[str, Any]] = field(default_factory=list)
    environments: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def display_path(path: Path, project_dir: Path) -> str:
    """The path relative to the project (the workers' working directory) when inside it, so
    tracebacks and warnings name snippets/<topic>/<file>, not the builder's disk."""
    try:
        return str(path.relative_to(project_dir))
    except ValueError:
        return str(path)


def prepare_request(topic: Topic, framework: str, size: int, prefix: Path,
                    settings: Settings) -> Prepare:
    """The worker request that loads a topic at one size and prepares every variant."""
    return Prepare(
        topic=topic.name, size=size,
        inputs_path=display_path(topic.inputs.path, settings.project_dir),
        side_path=display_path(topic.sides[framework].path, settings.project_dir),
        variants=[v.name for v in topic.variants_for(framework) if not v.fresh_process],
        capture_prefix=str(prefix),
        min_block_s=settings.measure.min_block_s, max_time_s=settings.measure.max_time_s,
        expect_error={v.name: expected for v in topic.variants_for(framework)
                      if (expected := topic.expected_error(framework, v.name))},
        peak_memory=topic.peak_memory)


def unmet_requirement(topic: Topic, backend: str) -> str | None:
    """Why a side cannot run on a worker whose device is `backend` (None when it can)."""
    kinds = {"accelerator": backend != "cpu", "gpu": backend in ("gpu", "cuda", "rocm"),
             "tpu": backend == "tpu", "mps": backend == "mps"}
    if not topic.requires or any(kinds[need] for need in topic.requires):
        return None
    needs = " or ".join(REQUIREMENTS[need] for need in topic.requires)
    return f"skipped: needs {needs}; this machine runs it on {backend}"


def _row(topic: Topic, framework: str, variant: str, size: int, status: str,
         **fields: Any) -> dict[str, Any]:
    row = {"topic": topic.name, "framework": framework, "variant": variant, "size": size,
           "status": status, "first_call_s": None, "samples": [], "number": None,
           "stdout": "", "stderr": "", "error": None, "measure_s": 0.0}
    row.update(fields)
    return row


@dataclass
class TopicState:
    """One topic's run in progress, shared by the steps of `TopicRunner.run`."""

    topic: Topic
    position: str
    """e.g. "2/5": the topic's place among those this build measures (for progress lines)."""
    directory: Path
    """Where the workers write this topic's captures and parity outputs."""
    result: TopicRun
    spent: dict[str, float] = field(default_factory=lambda: dict.fromkeys(FRAMEWORKS, 0.0))
    """Seconds each framework has used of its per-topic timeout."""
    failed: dict[str, dict[str, Any]] = field(default_factory=dict)
    """framework -> the status and error its remaining rows get, once it failed in this topic."""

    def fail(self, framework: str, status: str, error: dict[str, Any]) -> None:
        self.failed[framework] = {"status": status, "error": error}


class TopicRunner:
    def __init__(self, pool: WorkerPool, settings: Settings, progress: Log):
        self.pool = pool
        self.settings = settings
        self.progress = progress
        self.last_framework: str | None = None
        """The framework of the latest request: a measurement after a switch settles first."""

    def run(self, topic: Topic, position: str) -> TopicRun:
        if not topic.env:
            return self._run(topic, position)
        # A topic with its own environment (a device count, say) runs in workers of its own,
        # stopped (with every process they started) before the next topic: nothing leaks.
        shared = self.pool
        folder = shared.run_dir / f"{topic.name}-workers"
        folder.mkdir(exist_ok=True)
        self.pool = WorkerPool(self.settings, folder, self.progress, topic.env)
        names = ", ".join(f"{k}={v}" for k, v in topic.env.items())
        self.progress(f"{topic.name} ({position}): workers of its own, with {names}")
        finished = False
        try:
            result = self._run(topic, position)
            finished = True
            return result
        finally:
            self.pool.shut_down(finished)
            self.pool = shared
            self.last_framework = None

    def _run(self, topic: Topic, position: str) -> TopicRun:
        started = time.monotonic()
        state = TopicState(topic, position, self.pool.run_dir / topic.name, TopicRun(topic.name))
        state.directory.mkdir(exist_ok=True)
        result = state.result
        self._start_workers(state)
        for framework in FRAMEWORKS:
            if framework not in self.settings.frameworks:
                state.fail(framework, "not_run", error_record(
                    "Disabled", "not run: disabled by extra.comparison.frameworks in mkdocs.yml"))
        if any(variant.compiled for variant in topic.variants):
            self._warm_up_compilers(state)
        for framework in self.settings.frameworks:
            worker = self.pool.get(framework) if topic.requires else None
            if worker is not None and worker.environment is not None:
                reason = unmet_requirement(topic, worker.environment["backend"])
                if reason:
                    self.progress(f"{topic.name} · {FRAMEWORK_LABELS[framework]}: {reason}")
                    state.fail(framework, "skipped", error_record("Skipped", reason))
        for size_index, size in enumerate(topic.sizes):
            order = list(FRAMEWORKS)
            if size_index % 2:
                order.reverse()
            calls = {framework: functools.partial(
                self._prepare, state, framework, size,
                f"{topic.name} ({position}) · {FRAMEWORK_LABELS[framework]} · "
                f"{topic.size_name}={size}") for framework in order}
            if self.settings.measure.overlap_prepare:
                # Quick mode: both sides prepare at once (their first calls overlap; the pages
                # say so). The rows keep the order a sequential run gives them.
                rows, setups = len(result.rows), len(result.setups)
                outcomes = side_by_side(calls)
                rank = {framework: index for index, framework in enumerate(order)}
                result.rows[rows:] = sorted(result.rows[rows:],
                                            key=lambda row: rank[row["framework"]])
                result.setups[setups:] = sorted(result.setups[setups:],
                                                key=lambda setup: rank[setup["framework"]])
                self.last_framework = None
            else:
                outcomes = {framework: call() for framework, call in calls.items()}
            prepared = {framework: outcome for framework, outcome in outcomes.items()
                        if outcome is not None}
            samples = self._measure_rounds(state, size, prepared)
            self._run_fresh(state, size, prepared, samples)
            for framework, outcome in prepared.items():
                self._finish(state, framework, size, outcome, samples)
            self._check_parity(state, size, prepared)
        for framework, worker in self.pool.workers.items():
            if worker.environment is not None:
                result.environments[framework] = worker.environment
        result.seconds = time.monotonic() - started
        return result

    def _request(self, state: TopicState, framework: str,
                 message: Request) -> dict[str, Any] | None:
        """One request within the framework's remaining time; None once the framework failed."""
        if framework in state.failed:
            return None
        worker = self.pool.get(framework)
        if worker.unavailable is not None:
            state.fail(framework, "not_run", {
                **worker.unavailable,
                "message": f"not run: {worker.unavailable.get('message')}"})
            return None
        remaining = self.settings.timeout_s - state.spent[framework]
        started = time.monotonic()
        self.last_framework = framework
        try:
            return worker.request(message, timeout=remaining)
        except WorkerFailure as failure:
            if failure.kind == "timeout":
                message_text = f"timed out: killed after {self.settings.timeout_s:g} s " \
                               "(the per-topic timeout, extra.comparison.timeout)"
            else:
                message_text = f"crashed: {failure.message}"
            state.fail(framework, failure.kind, error_record(
                "Timeout" if failure.kind == "timeout" else "WorkerCrash", message_text))
            return None
        finally:
            state.spent[framework] += time.monotonic() - started

    def _prepare(self, state: TopicState, framework: str, size: int,
                 where: str) -> dict[str, Any] | None:
        topic, failed, result = state.topic, state.failed, state.result
        prefix = state.directory / f"{framework}-{size}"
        self.progress(f"Running {where}: setup, first calls, calibration")
        message = prepare_request(topic, framework, size, prefix, self.settings)
        started = time.monotonic()
        response = self._request(state, framework, message)
        limit = self.settings.output_limit_bytes
        setup_out = read_capture(Path(f"{prefix}.setup.stdout"), limit)
        setup_err = read_capture(Path(f"{prefix}.setup.stderr"), limit)
        setup: dict[str, Any] = {"framework": framework, "size": size, "stdout": setup_out,
                                 "stderr": setup_err, "status": "ok", "error": None,
                                 "inputs_digest": None}
        result.setups.append(setup)
        if response is None:
            setup.update(failed[framework])
            for variant in topic.variants_for(framework):
                vprefix = f"{prefix}.{variant.name}"
                result.rows.append(_row(
                    topic, framework, variant.name, size, **failed[framework],
                    stdout=read_capture(Path(f"{vprefix}.stdout"), limit),
                    stderr=read_capture(Path(f"{vprefix}.stderr"), limit)))
            return None
        setup.update(status=response["setup"]["status"], error=response["setup"].get("error"),
                     inputs_digest=response["setup"].get("inputs_digest"))
        if setup["status"] != "ok":
            for variant in topic.variants_for(framework):
                result.rows.append(_row(topic, framework, variant.name, size, setup["status"],
                                        error=setup["error"], phase="setup"))
            return None
        response["prefix"] = str(prefix)
        response["prepare_s"] = time.monotonic() - started
        return response

    def _measure_rounds(self, state: TopicState, size: int, prepared: dict[str, dict[str, Any]]
                        ) -> dict[tuple[str, str], list[float]]:
        """`rounds` rounds for every variant, then more rounds for each variant whose verdict is
        still inconclusive (its ratio's confidence interval straddles the threshold) and wider
        than `target_ci_width`, until one of the two changes, a side's time budget is spent,
        or `max_rounds` is reached. Each row records why its sampling stopped and how many
        rounds it had."""
        topic, settings = state.topic, self.settings.measure
        samples: dict[tuple[str, str], list[float]] = {}
        used: dict[tuple[str, str], float] = {}
        discarded: dict[tuple[str, str], int] = {}
        rounds_run: dict[tuple[str, str], int] = {}
        stopped: dict[str, str] = {}
        """pair key -> why its sampling stopped"""
        per_round = math.ceil(settings.blocks / settings.rounds)
        order = [fw for fw in self.settings.frameworks if fw in prepared]
        pairs = topic.pairs()
        for round_index in range(settings.max_rounds):
            if round_index >= settings.rounds:
                for pair in pairs:
                    if pair.key not in stopped:
                        reason = self._stop_reason(pair, samples, used)
                        if reason:
                            stopped[pair.key] = reason
            # A row is sampled while a pairing it belongs to still wants rounds.
            active_pairs = [pair for pair in pairs if pair.key not in stopped]
            active = sorted({pair.key for pair in active_pairs})
            wanted = {(fw, pair.name(fw) or "") for pair in active_pairs for fw in FRAMEWORKS}
            if not active_pairs:
                break
            round_order = order if round_index % 2 == 0 else order[::-1]
            extra = round_index >= settings.rounds
            self.progress(f"Measuring {topic.name} ({state.position}) · {topic.size_name}={size}: "
                          + (f"round {round_index + 1} of at most {settings.max_rounds}, for a "
                             f"narrower interval ({', '.join(active)})" if extra else
                             f"round {round_index + 1}/{settings.rounds}"))
            for framework in round_order:
                for variant, info in prepared[framework]["variants"].items():
                    key: tuple[str, str] = (framework, variant)
                    if info["status"] != "ok" or key not in wanted:
                        continue
                    have = samples.setdefault(key, [])
                    budget = settings.max_time_s - used.get(key, 0.0)
                    count = per_round if round_index >= settings.rounds else \
                        min(per_round, settings.blocks - len(have))
                    # Right after the other framework ran, settle first (paid from the budget).
                    settle = settings.settle_blocks if self.last_framework != framework else 0
                    block_s = info["estimate_s"] * info["number"]
                    if block_s > 0:
                        count = min(count, max(1, int(budget / block_s) - settle))
                    if count <= 0 or budget <= 0:
                        continue
                    response = self._request(state, framework, Measure(
                        variant=variant, number=info["number"], blocks=count, settle=settle))
                    if response is None:
                        break
                    if response["status"] != "ok":
                        info.update(status=response["status"], error=response["error"])
                        continue
                    have.extend(response["samples"])
                    info["timed_compilations"] = info.get("timed_compilations", 0) + \
                        response.get("compilations", 0)
                    used[key] = used.get(key, 0.0) + response["seconds"]
                    discarded[key] = discarded.get(key, 0) + settle
                    rounds_run[key] = round_index + 1
        for pair in pairs:
            stopped.setdefault(pair.key, self._stop_reason(pair, samples, used) or
                               ("round limit" if settings.max_rounds > settings.rounds
                                else "fixed rounds"))
        for key, seconds in used.items():
            # A row's own pairing (its variant's name) says why its sampling stopped.
            prepared[key[0]]["variants"][key[1]].update(
                measure_s=seconds, discarded_blocks=discarded[key],
                rounds=rounds_run.get(key, 0), stopped=stopped.get(key[1]))
        return samples

    def _run_fresh(self, state: TopicState, size: int, prepared: dict[str, dict[str, Any]],
                   samples: dict[tuple[str, str], list[float]]) -> None:
        """The topic's fresh-process variants (each sample a new process), merged into the
        prepared records and the samples as if the workers had measured them: one variant
        after another, or in quick mode all at once, two processes at a time."""
        topic = state.topic
        variants: list[FreshVariant] = []
        for variant in (v for v in topic.variants if v.fresh_process):
            sides = [fw for fw in self.settings.frameworks
                     if fw in prepared and fw in variant.sides and fw not in state.failed]
            if sides:
                variants.append(FreshVariant(
                    variant.name, variant.fresh_process or "cold",
                    {fw: fresh_request(prepare_request(topic, fw, size,
                                                       state.directory / f"{fw}-{size}",
                                                       self.settings),
                                       variant.name, state.directory / f"{fw}-{size}-fresh")
                     for fw in sides},
                    {fw: prepared[fw]["prefix"] for fw in sides}))
        if not variants:
            return
        runner = FreshRuns(self.settings, self.pool.env, state.directory,
                           self.pool.compiler_starts)
        limits = dict.fromkeys(self.settings.frameworks, self.settings.timeout_s)
        where = f"Measuring {topic.name} ({state.position}) · {topic.size_name}={size}"
        found: dict[str, dict[str, dict[str, Any]]] = {}
        if self.settings.measure.overlap_prepare:  # quick mode: the pages say so
            names = ", ".join(v.name for v in variants)
            self.progress(f"{where}: {names}, fresh processes two at a time (quick mode)")
            found = runner.measure_pooled(variants, limits, state.spent)
        for v in variants:
            if v.name not in found:
                self.progress(f"{where}: {v.name}, fresh processes with a {v.state} "
                              "compilation cache")
                found[v.name] = runner.measure(v.name, v.state, v.requests, v.prefixes,
                                               limits, state.spent)
            for framework, info in found[v.name].items():
                samples[(framework, v.name)] = info.pop("samples", [])
                if info.get("status") != "ok":
                    info.setdefault("error", error_record("FreshProcess", "no result"))
                prepared[framework]["variants"][v.name] = info
        self.last_framework = None  # the next block settles first, whatever ran last

    def _stop_reason(self, pair: Pair, samples: dict[tuple[str, str], list[float]],
                     used: dict[tuple[str, str], float]) -> str | None:
        """Why a pairing needs no more rounds, or None when it does."""
        settings = self.settings.measure
        if pair.jax is None or pair.pytorch is None:
            return "one side only"
        keys = [("jax", pair.jax), ("pytorch", pair.pytorch)]
        sides = [samples.get(key) for key in keys]
        if not all(sides):
            return "not measured on both sides"
        if any(used.get(key, 0.0) >= settings.max_time_s for key in keys):
            return "time budget"
        verdict = compare("jax", sides[0] or [], "pytorch", sides[1] or [],
                          self.settings.significance_level, self.settings.min_speedup)
        if verdict.ratio_low > 0 and \
                verdict.ratio_high / verdict.ratio_low - 1 <= settings.target_ci_width:
            return "interval narrow enough"
        if verdict.outcome != "inconclusive":
            return "verdict settled"  # the whole interval is on one side of the threshold
        return None

    def _finish(self, state: TopicState, framework: str, size: int, outcome: dict[str, Any],
                samples: dict[tuple[str, str], list[float]]) -> None:
        topic, failed, result = state.topic, state.failed, state.result
        prefix = outcome["prefix"]
        limit = self.settings.output_limit_bytes
        own = topic.variants_for(framework)
        for variant in own:
            info = outcome["variants"].get(variant.name) or {
                "status": "not_run", "error": failed.get(framework, {}).get("error") or
                error_record("NotRun", "not run: the framework failed before this variant")}
            fields = {
                "stdout": read_capture(Path(f"{prefix}.{variant.name}.stdout"), limit),
                "stderr": read_capture(Path(f"{prefix}.{variant.name}.stderr"), limit),
                "first_call_s": info.get("first_call_s"),
                "number": info.get("number"),
                "samples": samples.get((framework, variant.name), []),
                "blockable": info.get("blockable"),
                "calibration_capped": info.get("calibration_capped"),
                "discarded_blocks": info.get("discarded_blocks", 0),
                "rounds": info.get("rounds", 0),
                "stopped": info.get("stopped"),
                # The framework's own counters: what the first call compiled (count, seconds,
                # graph breaks) and how often it compiled again while being timed.
                "compilations": info.get("compilations"),
                "timed_compilations": info.get("timed_compilations"),
                "fresh": info.get("fresh"),
                # Peak memory the call adds, and how it was measured (peak_memory topics).
                "peak_bytes": (info.get("peak_memory") or {}).get("peak_bytes"),
                "peak_method": (info.get("peak_memory") or {}).get("method"),
                "measure_s": outcome["prepare_s"] / len(own) +
                info.get("measure_s", 0.0),
            }
            if topic.series is not None and topic.series.variant == variant.name and \
                    size == topic.display_size and info.get("leaves") is not None:
                from build_hooks.run.parity import series_values

                fields.update(series_values(info["leaves"], Path(f"{prefix}.{variant.name}.npz"),
                                            SERIES_MAX_POINTS))
            status = info["status"]
            if framework in failed and status == "ok":
                status, fields["error"] = failed[framework]["status"], failed[framework]["error"]
            elif status != "ok":
                fields["error"] = info["error"]
            result.rows.append(_row(topic, framework, variant.name, size, status, **fields))
        if framework not in failed:
            response = self._request(state, framework, Release())
            if response and response.get("restored"):
                names = ", ".join(response["restored"])
                result.notes.append(f"{FRAMEWORK_LABELS[framework]} at {topic.size_name}="
                                    f"{size} changed global state ({names}); the harness "
                                    "put it back before the next topic, except what is marked")

    def _start_workers(self, state: TopicState) -> None:
        """Start the workers not running yet side by side (their imports are not timed)."""
        idle = [framework for framework in self.settings.frameworks
                if framework not in state.failed and not self.pool.workers[framework].alive
                and self.pool.workers[framework].unavailable is None]
        if len(idle) > 1:
            side_by_side({framework: functools.partial(self.pool.get, framework)
                          for framework in idle})

    def _warm_up_compilers(self, state: TopicState) -> None:
        """Once per worker process: start each compiler before the first topic that compiles,
        so no topic's first call carries the one-off start-up of the compiler stack. Nothing
        is timed meanwhile, so the frameworks warm up side by side, each from the start-up
        this machine keeps (run/compiler_start.py)."""
        topic, result = state.topic, state.result
        cold = [framework for framework in self.settings.frameworks
                if framework not in state.failed and self.pool.get(framework).unavailable is None
                and not self.pool.get(framework).compiler_warmed]
        for framework in cold:
            self.progress(f"Starting the {FRAMEWORK_LABELS[framework]} compiler once "
                          f"(before {topic.name})")
        responses = side_by_side({framework: functools.partial(self._warm_up, state, framework)
                                  for framework in cold})
        self.last_framework = None
        for framework in cold:
            response = responses[framework]
            if response is None:
                continue
            self.pool.get(framework).compiler_warmed = True
            label = FRAMEWORK_LABELS[framework]
            if response.get("warmed"):
                kept = " from the start-up this machine keeps" if response.get("kept") else ""
                result.notes.append(
                    f"{label}: the compiler stack was started once before this topic "
                    f"({response['seconds']:.2f} s, on a tiny function{kept}), so no first "
                    "call includes its one-off start-up")
            else:
                result.notes.append(f"{label}: starting the compiler once before this topic "
                                    f"failed ({response.get('error')}); the first compiled "
                                    "call includes the start-up")

    def _warm_up(self, state: TopicState, framework: str) -> dict[str, Any] | None:
        started = time.monotonic()
        kept = self.pool.compiler_starts.give_worker(
            framework, self.pool.env, max(self.settings.timeout_s - state.spent[framework], 0.0))
        state.spent[framework] += time.monotonic() - started
        response = self._request(state, framework, WarmUp())
        if response is not None:
            response["kept"] = kept["status"] == "ok" and bool(WORKER_CACHES.get(framework))
        return response

    def _check_parity(self, state: TopicState, size: int,
                      prepared: dict[str, dict[str, Any]]) -> None:
        topic, failed, result = state.topic, state.failed, state.result
        from build_hooks.run.parity import compare_outputs

        setups = {s["framework"]: s for s in result.setups if s["size"] == size}
        digests = {fw: s.get("inputs_digest") for fw, s in setups.items()}
        for pair in topic.pairs():
            check: dict[str, Any] = {"variant": pair.key, "size": size}
            if pair.crossed:
                check.update(jax_variant=pair.jax, pytorch_variant=pair.pytorch)
            sides = {fw: prepared.get(fw, {}).get("variants", {}).get(pair.name(fw) or "")
                     for fw in FRAMEWORKS}
            alone = [fw for fw in FRAMEWORKS if pair.name(fw) is None]
            expected = [fw for fw, info in sides.items()
                        if info and info.get("status") == "expected_error"]
            skipped = [fw for fw in sides if failed.get(fw, {}).get("status") == "skipped"]
            if not topic.parity.compare:
                check.update(status="skipped", message=topic.parity.reason)
            elif alone:
                present = next(fw for fw in FRAMEWORKS if fw not in alone)
                check.update(status="skipped", message=(
                    f"only {FRAMEWORK_LABELS[present]} has this variant (no versus in "
                    "topic.toml), so there is nothing to compare it with"))
            elif expected:
                fw = expected[0]
                check.update(status="skipped", message=(
                    f"{FRAMEWORK_LABELS[fw]} raises {sides[fw]['error']['type']} by design "
                    "(expect_error), so there is no output to compare"))
            elif skipped:
                check.update(status="skipped", message=failed[skipped[0]]["error"]["message"])
            elif any(info is None or info.get("leaves") is None for info in sides.values()):
                missing = [fw for fw, info in sides.items()
                           if info is None or info.get("leaves") is None]
                reason = (failed.get(missing[0], {}).get("error") or {}).get("message")
                check.update(status="not_compared", message=(
                    f"{FRAMEWORK_LABELS[missing[0]]} did not produce a result"
                    + (f" ({reason})" if reason else "")))
            elif digests.get("jax") != digests.get("pytorch"):
                check.update(status="mismatch",
                             message="the two sides received different inputs (inputs digest "
                                     "differs): make_inputs() must be deterministic")
            else:
                jax_info, torch_info = sides["jax"], sides["pytorch"]
                assert jax_info is not None and torch_info is not None
                check.update(compare_outputs(
                    topic.parity,
                    jax_info["leaves"], Path(f"{prepared['jax']['prefix']}.{pair.jax}.npz"),
                    torch_info["leaves"],
                    Path(f"{prepared['pytorch']['prefix']}.{pair.pytorch}.npz")))
            result.parity_checks.append(check)

