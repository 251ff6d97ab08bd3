"""Measure the topics the cache lacks, one after the other, in one pool of workers; store each
as soon as it finishes, so an interruption loses only the topic in progress."""

from __future__ import annotations

import functools
from typing import Any

from build_hooks import FRAMEWORKS, HARNESS_VERSION
from build_hooks.core import Log, host
from build_hooks.records.cache import ResultStore
from build_hooks.run.devices import DeviceMismatch, device_mismatch
from build_hooks.run.parallel import side_by_side
from build_hooks.run.pool import WorkerPool, worker_pool
from build_hooks.run.probe import measure_probe
from build_hooks.run.scheduler import TopicRun, TopicRunner
from build_hooks.spec.settings import Settings
from build_hooks.spec.topics import Topic

Missing = tuple[Topic, str, dict[str, str], str]
"""A topic to measure: the topic, its cache key, the key's parts, and why it is measured."""


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


def _check_devices(pool: WorkerPool, settings: Settings) -> None:
    """Start both workers, side by side (their imports are not timed); a build that would
    compare a GPU with a CPU stops here."""
    workers = side_by_side({fw: functools.partial(pool.get, fw) for fw in settings.frameworks})
    started = {fw: worker.environment for fw, worker in workers.items()}
    problem = device_mismatch({fw: env for fw, env in started.items() if env})
    if problem:
        raise DeviceMismatch(problem)


def measure_missing(missing: list[Missing], settings: Settings, store: ResultStore,
                    machine: dict[str, Any], entries: dict[str, tuple[dict[str, Any], str]],
                    ran: list[str], log: Log, probe_key: str | None = None
                    ) -> dict[str, Any] | None:
    """Measure each topic of `missing`, store its record and put it in `entries` ("fresh");
    `ran` receives the names measured. With a `probe_key`, the machine probe is measured too,
    in the same workers, stored, and returned."""
    starts: dict[str, int] = {}
    probe = None
    with worker_pool(settings, log) as pool:
        try:
            runner = TopicRunner(pool, settings, log)
            checked = False
            for index, (topic, key, parts, reason) in enumerate(missing, start=1):
                if not settings.refresh:
                    # Another build may have measured it while this one waited for the lock.
                    record, _ = store.load(topic.name, key)
                    if record is not None:
                        entries[topic.name] = (record, "cache")
                        continue
                if not checked:  # before the first measurement, and only if there is one
                    _check_devices(pool, settings)
                    checked = True
                log(f"Measuring topic {index}/{len(missing)} '{topic.name}' ({reason})")
                run = runner.run(topic, f"{index}/{len(missing)}")
                unavailable = {fw: w.unavailable for fw, w in pool.workers.items()
                               if w.unavailable}
                record = make_record(topic, key, run, machine, settings, unavailable)
                record["key_parts"] = parts
                # What the store wrote (with the record header), so a save of this build's
                # results holds the same records as the cache.
                entries[topic.name] = (store.save(record), "fresh")
                ran.append(topic.name)
                log(f"Finished '{topic.name}' in {run.seconds:.1f} s")
            if probe_key is not None:
                if not checked:
                    _check_devices(pool, settings)
                probe = measure_probe(pool, settings, probe_key, log)
                if probe is not None:
                    probe = store.save_probe(probe)
        finally:
            starts = {fw: w.starts for fw, w in pool.workers.items()}
    log("Worker starts this build: " + ", ".join(
        f"{fw} {starts.get(fw, 0)}" for fw in FRAMEWORKS if fw in starts))
    return probe
