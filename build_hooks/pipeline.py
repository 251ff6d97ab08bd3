"""The pipeline of one build: discover topics, reuse what the cache holds, measure the rest,
assemble each machine's results (this build's and every stored machine's).

Used by the MkDocs hooks and by the command line alike. Workers start only if something must
be measured, so a warm rebuild never imports a framework.
"""

from __future__ import annotations

from typing import Any

from build_hooks.assemble.derive import assemble
from build_hooks.assemble.model import BuildResults, Site, machine_label
from build_hooks.core import Log, host
from build_hooks.records.archive import Bundle, load_history
from build_hooks.records.cache import (
    ResultStore,
    cache_key,
    key_parts,
    probe_key,
    sources_part,
)
from build_hooks.records.history import changes_between
from build_hooks.render.charts import SUMMARY, draw_charts, summary_wanted, topic_wanted
from build_hooks.spec.settings import Settings
from build_hooks.spec.topics import Topic, discover_topics


def run_build(settings: Settings, log: Log, topics: list[Topic] | None = None,
              only: set[str] | None = None) -> BuildResults:
    """Measure what the cache lacks and return every topic's results.

    `only` limits measuring to those topic names (the others must come from the cache or are
    left out); `settings.refresh` ignores the cache.
    """
    if topics is None:
        topics = discover_topics(settings.snippets_dir)
    if settings.measure.quick:  # drafts and tests: fewer sizes, so fewer compilations
        topics = [topic.quick_sizes() for topic in topics]
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
    # The machine probe, once per machine and framework versions, when a topic has a bound.
    wanted = probe_key(settings, fingerprint) if any(t.flops or t.bytes for t in topics) \
        else None
    probe = store.load_probe(wanted) if wanted else None
    if missing or (wanted and probe is None):
        with store.lock(on_wait=lambda: log("Waiting for another build that holds the "
                                            f"cache lock ({settings.cache_dir})")):
            # The runner (and with it the worker processes) only when something is missing.
            from build_hooks.run.batch import measure_missing

            if wanted and probe is None:
                probe = store.load_probe(wanted)  # another build may have measured it
            found = measure_missing(missing, settings, store, machine, entries, ran, log,
                                    wanted if wanted and probe is None else None)
            probe = probe or found
    else:
        log(f"All {len(topics)} topic(s) came from the cache; nothing to run")
    name = host.machine_name(machine)
    return _machine_results(topics, {t: entries[t][0] for t in entries},
                            {t: entries[t][1] for t in entries}, machine, name, settings,
                            ran=ran, origin="this build", probe=probe)


def _machine_results(topics: list[Topic], records: dict[str, dict[str, Any]],
                     sources: dict[str, str], machine: dict[str, Any], name: str,
                     settings: Settings, ran: list[str], origin: str,
                     stale: dict[str, str] | None = None,
                     probe: dict[str, Any] | None = None) -> BuildResults:
    """Statistics, verdicts and charts of one machine's records (and its probe, if any)."""
    shown = [t for t in topics if t.name in records]
    ordered = [(t, records[t.name], sources[t.name]) for t in shown]
    data = assemble(ordered, machine, name, settings, probe)
    # Every chart of the machine at once, so that the missing ones are drawn side by side.
    wanted = {t.name: topic_wanted(t, [r for r in data["results"] if r["topic"] == t.name],
                                   name) for t in shown}
    wanted[SUMMARY] = summary_wanted(shown, data, name, settings.min_speedup,
                                     1 - settings.significance_level)
    drawn = iter(draw_charts([w for group in wanted.values() for w in group],
                             settings.cache_dir))
    charts = {owner: [next(drawn) for _ in group] for owner, group in wanted.items()}
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
                            stale=stale, probe=bundle.probe)


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
