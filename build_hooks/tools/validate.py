"""`make validate`: check the harness against timers that experts already trust.

For every topic, variant and size, the same worker that measures for the site prepares the call
once, then alternates harness blocks with an independent timer (torch.utils.benchmark's
blocked_autorange for PyTorch, timeit with block_until_ready for JAX) on the same call. The
ratio harness median / independent median must fall within 0.8 to 1.25. The ratio of the
site's stored median to the independent one is printed beside it, for information: it was
measured at another time, so machine drift enters it.

The report is written to results/<machine>/validation.json with its full provenance; the
methodology page shows it.
"""

from __future__ import annotations

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
from build_hooks.run.pool import worker_pool
from build_hooks.run.process import WorkerFailure
from build_hooks.run.scheduler import prepare_request
from build_hooks.spec.settings import Settings
from build_hooks.spec.topics import discover_topics

LOW, HIGH = 0.8, 1.25
ROUNDS = 5
BLOCKS_PER_ROUND = 3
MIN_RUN_TIME = 0.2  # torch.utils.benchmark's default


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
    with worker_pool(settings, log, "validate") as pool:
        run_dir = pool.run_dir
        for topic in topics:
            for size in topic.sizes:
                prepared: dict[str, dict[str, Any]] = {}
                for framework in settings.frameworks:
                    worker = pool.get(framework)
                    if worker.unavailable is not None:
                        continue
                    message = prepare_request(topic, framework, size,
                                              run_dir / f"{topic.name}-{framework}-{size}",
                                              settings)
                    try:
                        response = worker.request(message, settings.timeout_s)
                    except WorkerFailure as failure:
                        log(f"{topic.name} {framework} {size}: {failure.message}")
                        continue
                    if response["setup"]["status"] == "ok":
                        prepared[framework] = response
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
                        site_median = site_medians.get((topic.name, framework, variant.name,
                                                        size))
                        rows.append({
                            "topic": topic.name, "framework": framework,
                            "variant": variant.name, "size": size,
                            "harness_median_s": harness, "independent_median_s": independent,
                            "ratio": harness / independent,
                            "site_median_s": site_median,
                            "site_ratio": site_median / independent if site_median else None,
                            "tool": "torch.utils.benchmark.Timer.blocked_autorange"
                            if framework == "pytorch" else "timeit + jax.block_until_ready",
                            "measured_at": host.now_iso(),
                        })
                for framework in prepared:
                    pool.workers[framework].request(Release(), settings.timeout_s)
        frameworks = {fw: w.environment for fw, w in pool.workers.items() if w.environment}
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
        "all_in_range": all(LOW <= row["ratio"] <= HIGH for row in rows) and bool(rows),
        "rows": rows,
    }
    return write_versioned(path, VALIDATION_FORMAT, VALIDATION_SCHEMA, report)


def format_report(report: dict[str, Any]) -> str:
    lines = [f"Validation on {report['machine']['cpu']} ({report['machine_name']}), "
             f"{report['measured_at']}",
             f"{'topic':<20} {'framework':<9} {'variant':<18} {'size':>8} {'harness':>10} "
             f"{'independent':>11} {'ratio':>6} {'site':>6}"]
    for row in report["rows"]:
        site = f"{row['site_ratio']:.2f}" if row["site_ratio"] else "-"
        flag = "" if LOW <= row["ratio"] <= HIGH else "  OUT OF RANGE"
        lines.append(f"{row['topic']:<20} {row['framework']:<9} {row['variant']:<18} "
                     f"{row['size']:>8} {format_seconds(row['harness_median_s']):>10} "
                     f"{format_seconds(row['independent_median_s']):>11} "
                     f"{row['ratio']:>6.2f} {site:>6}{flag}")
    verdict = "all ratios within" if report["all_in_range"] else "NOT all ratios within"
    lines.append(f"{verdict} {LOW}-{HIGH} ({len(report['rows'])} rows)")
    return "\n".join(lines)
