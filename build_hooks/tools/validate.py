"""`make validate`: check the harness against timers that experts already trust.

For every topic, variant and size, the same worker that measures for the site prepares the call
once, then alternates harness blocks with an independent timer (torch.utils.benchmark's
blocked_autorange for PyTorch, timeit with block_until_ready for JAX) on the same call. The
ratio harness median / independent median must fall within 0.8 to 1.25. The ratio of the
site's stored median to the independent one is printed beside it, for information: it was
measured at another time, so machine drift enters it.

Each row is also timed in a second pair of workers that run with glibc's default allocator
settings (no GLIBC_TUNABLES), as a reader who copies the code would run it: the ratio of that
independent median to the site's setting's shows where the allocator policy (see the methodology
page) changes a number by more than 25%; the topic page then shows both figures.

The report is written to results/<machine>/validation.json with its full provenance; the
methodology page shows it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from build_hooks import FRAMEWORK_LABELS, HARNESS_VERSION
from build_hooks.core import host, stats
from build_hooks.core.formatting import format_seconds
from build_hooks.core.jsonfile import read_versioned, write_versioned
from build_hooks.core.protocol import Release, Validate
from build_hooks.pipeline import Log, run_build
from build_hooks.records.archive import (
    VALIDATION_FILE,
    VALIDATION_FORMAT,
    VALIDATION_SCHEMA,
    machine_dir,
)
from build_hooks.run.pool import WorkerPool, worker_pool
from build_hooks.run.process import WorkerFailure, WorkerProcess
from build_hooks.run.scheduler import prepare_request
from build_hooks.spec.settings import Settings
from build_hooks.spec.topics import discover_topics

LOW, HIGH = 0.8, 1.25
ROUNDS = 5
BLOCKS_PER_ROUND = 3
MIN_RUN_TIME = 0.2  # torch.utils.benchmark's default
DEFAULT_ALLOCATOR_ROUNDS = 3
ALLOCATOR_LOW, ALLOCATOR_HIGH = 1 / 1.25, 1.25
"""Beyond these, a row's allocator ratio is shown on its topic page (a difference over 25%)."""


def allocator_differs(row: dict[str, Any]) -> bool:
    ratio = row.get("allocator_ratio")
    return ratio is not None and not ALLOCATOR_LOW <= ratio <= ALLOCATOR_HIGH


@contextmanager
def default_allocator_workers(pool: WorkerPool) -> Iterator[dict[str, WorkerProcess]]:
    """A second worker per framework, like the pool's but with glibc's default allocator."""
    env = {k: v for k, v in pool.env.items() if k != "GLIBC_TUNABLES"}
    run_dir = pool.run_dir / "default-allocator"
    run_dir.mkdir()
    workers = {fw: WorkerProcess(fw, run_dir, pool.settings.memory_limit_mb, env,
                                 cwd=pool.settings.project_dir)
               for fw in pool.settings.frameworks}
    try:
        yield workers
    finally:
        for worker in workers.values():
            worker.stop()


def run_validation(settings: Settings, log: Log, only: set[str] | None = None
                   ) -> dict[str, Any]:
    """Validate every topic, or the topics in `only`: then the stored report's rows of the
    other topics are kept (each row says when it was measured)."""
    topics = discover_topics(settings.snippets_dir)
    unknown = sorted((only or set()) - {t.name for t in topics})
    if unknown:
        raise ValueError(f"unknown topic(s) {', '.join(unknown)}; the topics are: "
                         + ", ".join(t.name for t in topics))
    if only:
        topics = [t for t in topics if t.name in only]
    log("Loading (or measuring) the site's own results first")
    site = run_build(settings, log, topics)
    site_medians = {(r["topic"], r["framework"], r["variant"], r["size"]): r["median_s"]
                    for r in site.data["results"]}
    machine = host.machine()
    rows: list[dict[str, Any]] = []
    with worker_pool(settings, log, "validate") as pool, \
            default_allocator_workers(pool) as plain:
        run_dir = pool.run_dir
        for topic in topics:
            for size in topic.sizes:
                prepared: dict[str, dict[str, Any]] = {}
                plain_prepared: dict[str, dict[str, Any]] = {}
                for framework in settings.frameworks:
                    worker = pool.get(framework)
                    if worker.unavailable is not None:
                        continue
                    response = _prepare(worker, topic, framework, size,
                                        run_dir / f"{topic.name}-{framework}-{size}",
                                        settings, log)
                    if response is None:
                        continue
                    prepared[framework] = response
                    other = plain[framework]
                    if not other.alive and other.unavailable is None:
                        log(f"Starting the {FRAMEWORK_LABELS[framework]} worker with the "
                            "default allocator")
                        try:
                            other.start(timeout=settings.timeout_s)
                        except WorkerFailure as failure:
                            log(f"The default-allocator worker did not start: "
                                f"{failure.message}")
                    response = _prepare(other, topic, framework, size,
                                        run_dir / f"{topic.name}-{framework}-{size}-plain",
                                        settings, log)
                    if response is not None:
                        plain_prepared[framework] = response
                for index, variant in enumerate(topic.variants):
                    order = list(prepared) if index % 2 == 0 else list(prepared)[::-1]
                    for framework in order:
                        info = prepared[framework]["variants"].get(variant.name)
                        if info is None or info["status"] != "ok":  # the other side's only
                            continue
                        log(f"Validating {topic.name} · {FRAMEWORK_LABELS[framework]} · "
                            f"{variant.name} · {topic.size_name}={size}")
                        response = pool.workers[framework].request(Validate(
                            variant=variant.name, number=info["number"],
                            blocks=BLOCKS_PER_ROUND, rounds=ROUNDS,
                            min_run_time=MIN_RUN_TIME), settings.timeout_s)
                        if not response.get("ok"):
                            log(f"{topic.name} {framework} {variant.name}: "
                                f"{response['error']['message']}")
                            continue
                        harness = stats.median(response["harness"])
                        independent = stats.median(response["independent"])
                        default = _default_allocator_median(
                            plain[framework], plain_prepared.get(framework), variant.name,
                            settings, log)
                        site_median = site_medians.get((topic.name, framework, variant.name,
                                                        size))
                        rows.append({
                            "topic": topic.name, "framework": framework,
                            "variant": variant.name, "size": size,
                            "harness_median_s": harness, "independent_median_s": independent,
                            "ratio": harness / independent,
                            "site_median_s": site_median,
                            "site_ratio": site_median / independent if site_median else None,
                            "default_allocator_median_s": default,
                            "allocator_ratio": default / independent if default else None,
                            "tool": "torch.utils.benchmark.Timer.blocked_autorange"
                            if framework == "pytorch" else "timeit + jax.block_until_ready",
                            "measured_at": host.now_iso(),
                        })
                for framework in prepared:
                    pool.workers[framework].request(Release(), settings.timeout_s)
                for framework in plain_prepared:
                    plain[framework].request(Release(), settings.timeout_s)
        frameworks = {fw: w.environment for fw, w in pool.workers.items() if w.environment}
        allocators = {fw: {"site": (pool.workers[fw].environment or {}).get("allocator"),
                           "default": (plain[fw].environment or {}).get("allocator")}
                      for fw in frameworks if plain[fw].environment}
    name = host.machine_name(machine)
    path = machine_dir(settings.project_dir, name) / VALIDATION_FILE
    if only:  # keep the stored rows of the topics not validated now, from the same harness
        stored, _ = read_versioned(path, VALIDATION_FORMAT, VALIDATION_SCHEMA,
                                   "validation report")
        if stored and stored.get("harness_version") == HARNESS_VERSION:
            kept = [{"measured_at": stored.get("measured_at"), **row}
                    for row in stored["rows"] if row["topic"] not in only]
            rank = {t.name: i for i, t in enumerate(discover_topics(settings.snippets_dir))}
            rows = sorted(kept + rows, key=lambda r: rank.get(r["topic"], len(rank)))
    report = {
        "machine_name": name,
        "measured_at": host.now_iso(),
        "harness_version": HARNESS_VERSION,
        "machine": machine,
        "frameworks": frameworks,
        "settings": settings.measure.as_dict(),
        "range": [LOW, HIGH],
        "allocators": allocators,
        "allocator_range": [ALLOCATOR_LOW, ALLOCATOR_HIGH],
        "all_in_range": all(LOW <= row["ratio"] <= HIGH for row in rows) and bool(rows),
        "rows": rows,
    }
    return write_versioned(path, VALIDATION_FORMAT, VALIDATION_SCHEMA, report)


def _prepare(worker: WorkerProcess, topic, framework: str, size: int, prefix,
             settings: Settings, log: Log) -> dict[str, Any] | None:
    """Load the topic at one size in that worker; None (logged) if it failed."""
    message = prepare_request(topic, framework, size, prefix, settings)
    try:
        response = worker.request(message, settings.timeout_s)
    except WorkerFailure as failure:
        log(f"{topic.name} {framework} {size}: {failure.message}")
        return None
    return response if response["setup"]["status"] == "ok" else None


def _default_allocator_median(worker: WorkerProcess, prepared: dict[str, Any] | None,
                              variant: str, settings: Settings, log: Log) -> float | None:
    """The independent timer's median for the variant in the default-allocator worker."""
    info = (prepared or {}).get("variants", {}).get(variant)
    if info is None or info["status"] != "ok":
        return None
    try:
        response = worker.request(Validate(
            variant=variant, number=info["number"], blocks=1,
            rounds=DEFAULT_ALLOCATOR_ROUNDS, min_run_time=MIN_RUN_TIME), settings.timeout_s)
    except WorkerFailure as failure:
        log(f"{variant} with the default allocator: {failure.message}")
        return None
    if not response.get("ok"):
        log(f"{variant} with the default allocator: {response['error']['message']}")
        return None
    return stats.median(response["independent"])


def format_report(report: dict[str, Any]) -> str:
    lines = [f"Validation on {report['machine']['cpu']} ({report['machine_name']}), "
             f"{report['measured_at']}",
             f"{'topic':<20} {'framework':<9} {'variant':<18} {'size':>8} {'harness':>10} "
             f"{'independent':>11} {'ratio':>6} {'site':>6} {'default alloc':>13}"]
    for row in report["rows"]:
        site = f"{row['site_ratio']:.2f}" if row["site_ratio"] else "-"
        flag = "" if LOW <= row["ratio"] <= HIGH else "  OUT OF RANGE"
        allocator = row.get("allocator_ratio")
        allocator_cell = f"{allocator:.2f}" if allocator else "-"
        if allocator_differs(row):
            flag += "  ALLOCATOR"
        lines.append(f"{row['topic']:<20} {row['framework']:<9} {row['variant']:<18} "
                     f"{row['size']:>8} {format_seconds(row['harness_median_s']):>10} "
                     f"{format_seconds(row['independent_median_s']):>11} "
                     f"{row['ratio']:>6.2f} {site:>6} {allocator_cell:>13}{flag}")
    verdict = "all ratios within" if report["all_in_range"] else "NOT all ratios within"
    lines.append(f"{verdict} {LOW}-{HIGH} ({len(report['rows'])} rows)")
    differ = sum(allocator_differs(row) for row in report["rows"])
    lines.append("default alloc: the independent median in a process with glibc's default "
                 f"allocator over the site's setting; {differ} row(s) differ by more than 25% "
                 "(their topic pages say so)")
    return "\n".join(lines)
