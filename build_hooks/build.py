"""One build's run step: discover topics, reuse what the cache holds, measure the rest.

Used by the MkDocs hooks and by the command line alike. Workers start only if something must
be measured, so a warm rebuild never imports a framework.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from build_hooks import FRAMEWORKS, HARNESS_VERSION
from build_hooks.charts import make_charts
from build_hooks.core import Log, host
from build_hooks.history import changes_between
from build_hooks.results import BuildResults, Site, assemble, machine_label
from build_hooks.spec.settings import Settings
from build_hooks.spec.topics import Topic, discover_topics
from build_hooks.store import (
    ResultStore,
    cache_key,
    key_parts,
    sources_part,
)
from build_hooks.stored import Bundle, load_history

if TYPE_CHECKING:  # the runner is imported only when something must be measured
    from build_hooks.runner import TopicRun

def make_record(topic: Topic, key: str, run: TopicRun, machine: dict[str, Any],
                settings: Settings, unavailable: dict[str, Any]) -> dict[str, Any]:
    frameworks = dict(run.environments)
    for framework, error in unavailable.items():
        frameworks.setdefault(framework, {"framework": framework, "unavailable": error})
    return {
        "topic": topic.name,
        "key": key,
        "measured_at": host.now_iso(),
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
    machine = host.machine()
    fingerprint = host.fingerprint(machine)
    store = ResultStore(settings.cache_dir, quick=settings.measure.quick)
    entries: dict[str, tuple[dict[str, Any], str]] = {}
    missing: list[tuple[Topic, str, dict[str, str], str]] = []
    for topic in topics:
        parts = key_parts(topic, settings, fingerprint)
        key = cache_key(topic, settings, fingerprint, parts)
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
    name = host.machine_name(machine)
    return _machine_results(topics, {t: entries[t][0] for t in entries},
                            {t: entries[t][1] for t in entries}, machine, name, settings,
                            ran=ran, origin="this build")


def _machine_results(topics: list[Topic], records: dict[str, dict[str, Any]],
                     sources: dict[str, str], machine: dict[str, Any], name: str,
                     settings: Settings, ran: list[str], origin: str,
                     stale: dict[str, str] | None = None) -> BuildResults:
    """Statistics, verdicts and charts of one machine's records."""
    shown = [t for t in topics if t.name in records]
    ordered = [(t, records[t.name], sources[t.name]) for t in shown]
    data = assemble(ordered, machine, name, settings)
    charts = {t.name: make_charts(t, [r for r in data["results"] if r["topic"] == t.name],
                                  settings.cache_dir, name) for t in shown}
    latest = max((r["measured_at"] for r in records.values()), default=host.now_iso())
    return BuildResults(
        topics=shown, data=data, ran=ran, charts=charts, records=records,
        label=machine_label(machine, data["environment"]["frameworks"], latest), origin=origin,
        stale=stale or {},
        missing=[t.name for t in topics if t.name not in records])


def from_bundle(bundle: Bundle, topics: list[Topic], settings: Settings) -> BuildResults:
    """A stored machine's results, with each topic whose files changed since marked stale."""
    current = {t.name: sources_part(t) for t in topics}
    records = {name: record for name, record in bundle.records.items() if name in current}
    stale = {name: record["measured_at"] for name, record in records.items()
             if (record.get("key_parts") or {}).get("sources") != current[name]}
    return _machine_results(topics, records, dict.fromkeys(records, "stored"), bundle.machine,
                            bundle.machine_name, settings, ran=[],
                            origin=str(bundle.path.relative_to(settings.project_dir)),
                            stale=stale)


def build_site(settings: Settings, log: Log) -> Site:
    """This build's results (or, frozen, none) and every stored machine's latest refresh."""
    topics = discover_topics(settings.snippets_dir)
    skipped: list[str] = []
    history = load_history(settings.project_dir, skipped.append)
    machines: list[BuildResults] = []
    if settings.freeze:
        log("Frozen build: every number comes from results/; no worker is started")
    else:
        machines.append(run_build(settings, log, topics))
    this_machine = machines[0].data["machine_name"] if machines else None
    for name, bundles in sorted(history.items()):
        if name != this_machine:
            machines.append(from_bundle(bundles[-1], topics, settings))
    changes = [change for bundles in history.values() if len(bundles) > 1
               for change in [changes_between(bundles[-2], bundles[-1], topics, settings)]]
    return Site(topics=topics, machines=machines, changes=changes, frozen=settings.freeze,
                skipped_files=skipped)


def _measure(missing: list[tuple[Topic, str, dict[str, str], str]], settings: Settings,
             store: ResultStore,
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
            # What the store wrote (with the record header), so a save of this build's results
            # holds the same records as the cache.
            entries[topic.name] = (store.save(record), "fresh")
            ran.append(topic.name)
            log(f"Finished '{topic.name}' in {run.seconds:.1f} s")
        finished = True
    finally:
        # On Ctrl-C or any error, kill the workers at once; topics finished so far are stored.
        try:
            if finished:
                pool.close()
            else:
                pool.kill()
        finally:
            starts = {fw: w.starts for fw, w in pool.workers.items()}
            shutil.rmtree(run_dir, ignore_errors=True)
    log("Worker starts this build: " + ", ".join(
        f"{fw} {starts.get(fw, 0)}" for fw in FRAMEWORKS if fw in starts))
