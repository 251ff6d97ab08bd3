"""One build's run step: discover topics, reuse what the cache holds, measure the rest.

Used by the MkDocs hooks and by the command line alike. Workers start only if something must
be measured, so a warm rebuild never imports a framework.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from build_hooks import FRAMEWORKS, HARNESS_VERSION, environment
from build_hooks.charts import make_charts
from build_hooks.results import BuildResults, assemble
from build_hooks.settings import Settings
from build_hooks.store import ResultStore, cache_key, key_parts
from build_hooks.topics import Topic, discover_topics

if TYPE_CHECKING:  # the runner is imported only when something must be measured
    from build_hooks.runner import TopicRun

Log = Callable[[str], None]


def make_record(topic: Topic, key: str, run: TopicRun, machine: dict[str, Any],
                settings: Settings, unavailable: dict[str, Any]) -> dict[str, Any]:
    frameworks = dict(run.environments)
    for framework, error in unavailable.items():
        frameworks.setdefault(framework, {"framework": framework, "unavailable": error})
    return {
        "topic": topic.name,
        "key": key,
        "measured_at": environment.now_iso(),
        "harness_version": HARNESS_VERSION,
        "machine": machine,
        "frameworks": frameworks,
        "settings": settings.cache_key_fields(),
        "rows": run.rows,
        "setups": run.setups,
        "parity_checks": run.parity_checks,
        "notes": run.notes,
        "seconds": run.seconds,
    }


def run_build(settings: Settings, log: Log, topics: list[Topic] | None = None,
              only: set[str] | None = None) -> BuildResults:
    """Measure what the cache lacks and return every topic's results.

    `only` limits measuring to those topic names (the others must come from the cache or are
    left out); `settings.refresh` ignores the cache.
    """
    if topics is None:
        topics = discover_topics(settings.snippets_dir)
    machine = environment.machine()
    fingerprint = environment.fingerprint(machine)
    store = ResultStore(settings.cache_dir)
    entries: dict[str, tuple[dict[str, Any], str]] = {}
    missing: list[tuple[Topic, str, dict[str, str], str]] = []
    for topic in topics:
        key = cache_key(topic, settings, fingerprint)
        parts = key_parts(topic, settings, fingerprint)
        if settings.refresh and (only is None or topic.name in only):
            record, reason = None, "refresh requested"
        else:
            record, reason = store.load(topic.name, key, parts)
        if record is not None:
            entries[topic.name] = (record, "cache")
        elif only is None or topic.name in only:
            missing.append((topic, key, parts, reason))
    ran: list[str] = []
    if missing:
        with store.lock(on_wait=lambda: log("Waiting for another build that holds the "
                                            f"cache lock ({settings.cache_dir})")):
            _measure(missing, settings, store, machine, entries, ran, log)
    else:
        log(f"All {len(topics)} topic(s) came from the cache; nothing to run")
    ordered = [(t, *entries[t.name]) for t in topics if t.name in entries]
    data = assemble(ordered, machine, environment.machine_name(machine), settings)
    shown = [t for t in topics if t.name in entries]
    charts = {t.name: make_charts(t, [r for r in data["results"] if r["topic"] == t.name],
                                  settings.cache_dir) for t in shown}
    return BuildResults(topics=shown, data=data, ran=ran, charts=charts)


def _measure(missing: list[tuple[Topic, str, dict[str, str], str]], settings: Settings, store: ResultStore,
             machine: dict[str, Any], entries: dict[str, tuple[dict[str, Any], str]],
             ran: list[str], log: Log) -> None:
    from build_hooks.runner import TopicRunner, WorkerPool

    run_dir = Path(tempfile.mkdtemp(prefix="jax-vs-pytorch-run-"))
    pool = WorkerPool(settings, run_dir, log)
    runner = TopicRunner(pool, settings, log)
    finished = False
    try:
        for index, (topic, key, parts, reason) in enumerate(missing, start=1):
            if not settings.refresh:
                # Another build may have measured it while this one waited for the lock.
                record, _ = store.load(topic.name, key)
                if record is not None:
                    entries[topic.name] = (record, "cache")
                    continue
            log(f"Measuring topic {index}/{len(missing)} '{topic.name}' ({reason})")
            run = runner.run(topic, f"{index}/{len(missing)}")
            unavailable = {fw: w.unavailable for fw, w in pool.workers.items() if w.unavailable}
            record = make_record(topic, key, run, machine, settings, unavailable)
            record["key_parts"] = parts
            store.save(record)
            entries[topic.name] = (record, "fresh")
            ran.append(topic.name)
            log(f"Finished '{topic.name}' in {run.seconds:.1f} s")
        finished = True
    finally:
        # On Ctrl-C or any error, kill the workers at once; topics finished so far are stored.
        if finished:
            pool.close()
        else:
            pool.kill()
        starts = {fw: w.starts for fw, w in pool.workers.items()}
        shutil.rmtree(run_dir, ignore_errors=True)
    log("Worker starts this build: " + ", ".join(
        f"{fw} {starts.get(fw, 0)}" for fw in FRAMEWORKS if fw in starts))
