"""Statistics, verdicts and parity summaries, derived from the raw samples on every build, so a
change of threshold never leaves a stale flag in the cache; and the `results.json` document of
one machine (`assemble`)."""

from __future__ import annotations

import math
from typing import Any

from build_hooks import FRAMEWORKS, HARNESS_VERSION
from build_hooks.assemble.model import SCHEMA_VERSION, index_rows
from build_hooks.core import stats
from build_hooks.core.host import now_iso
from build_hooks.spec.settings import Settings
from build_hooks.spec.topics import Topic


def derive_row(row: dict[str, Any], topic: Topic, settings: Settings,
               min_samples: int | None = None) -> dict[str, Any]:
    """The row with its statistics: median, quartiles, IQR, n, noise and completeness flags.
    `min_samples` is the one the row was measured with (a stored machine's may differ)."""
    samples = row.get("samples") or []
    derived = dict(row)
    derived.update(median_s=None, iqr_s=None, q25_s=None, q75_s=None, n=len(samples),
                   noisy=None, incomplete=None, gflops=None)
    if samples:
        middle = stats.median(samples)
        derived.update(
            median_s=middle,
            q25_s=stats.quantile(samples, 0.25),
            q75_s=stats.quantile(samples, 0.75),
            iqr_s=stats.iqr(samples),
            noisy=stats.is_noisy(samples, settings.noise_threshold),
        )
        flop_count = topic.flop_count(row["size"])
        if flop_count is not None and middle > 0:
            derived["gflops"] = flop_count / middle / 1e9
    if row.get("status") == "ok":
        wanted = settings.measure.min_samples if min_samples is None else min_samples
        derived["incomplete"] = len(samples) < wanted
    return derived


def bound_share(topic: Topic, size: int, median_s: float | None,
                probe: dict[str, Any] | None) -> tuple[float | None, str | None]:
    """The share of the machine's bound a call reached, and which bound limits it: the
    roofline's least time for the topic's FLOPs at the probe's compute rate and its bytes at
    the probe's memory rate, over the measured median. (None, None) without a probe, a median
    or a declared amount of work."""
    if not probe or not median_s or median_s <= 0:
        return None, None
    bounds = probe.get("bounds") or {}
    least: dict[str, float] = {}
    work = {"compute": topic.flop_count(size), "memory": topic.byte_count(size)}
    for kind, amount in work.items():
        rate = (bounds.get(kind) or {}).get("rate")
        if amount is not None and rate:
            least[kind] = amount / (rate * 1e9)
    if not least:
        return None, None
    kind = max(least, key=least.__getitem__)
    return least[kind] / median_s, kind


def compare_rows(topic: Topic, rows: list[dict[str, Any]], settings: Settings,
                 parity_checks: list[dict[str, Any]] | None = None) -> list[dict]:
    """One verdict per (variant, size) that both frameworks measured, with the ratio and its
    confidence interval; none where the two sides' outputs differ (unequal work). A one-side
    variant is compared with the other side's `versus` variant: the entry names both."""
    by_key = index_rows(rows)
    differ = {(c.get("variant"), c.get("size")) for c in parity_checks or []
              if c.get("status") == "mismatch"}
    verdicts = []
    for pair in topic.pairs():
        for size in topic.sizes:
            jax_row = by_key.get(("jax", pair.jax, size)) if pair.jax else None
            torch_row = by_key.get(("pytorch", pair.pytorch, size)) if pair.pytorch else None
            entry: dict[str, Any] = {"topic": topic.name, "variant": pair.key, "size": size,
                                     "jax_variant": pair.jax, "pytorch_variant": pair.pytorch,
                                     "outcome": None, "faster": None, "leader": None,
                                     "ratio": None, "ratio_ci_low": None, "ratio_ci_high": None,
                                     "confidence": 1 - settings.significance_level,
                                     "p_value": None}
            measured = [r for r in (jax_row, torch_row)
                        if r and r.get("status") == "ok" and r.get("samples")]
            # Only rows that finished: a row that failed after some blocks keeps its samples.
            if pair.jax is None or pair.pytorch is None:
                only = "PyTorch" if pair.jax is None else "JAX"
                entry["reason"] = f"only {only} has this variant"
            elif len(measured) < 2 or jax_row is None or torch_row is None:
                entry["reason"] = "not measured on both sides"
            else:
                verdict = stats.compare("jax", jax_row["samples"], "pytorch",
                                        torch_row["samples"], settings.significance_level,
                                        settings.min_speedup)
                entry.update(outcome=verdict.outcome, faster=verdict.faster,
                             leader=verdict.leader, ratio=verdict.ratio,
                             ratio_ci_low=verdict.ratio_low if verdict.ratio_low > 0 else None,
                             ratio_ci_high=verdict.ratio_high
                             if math.isfinite(verdict.ratio_high) else None,
                             p_value=verdict.p_value, reason=verdict.reason)
                if (pair.key, size) in differ:
                    entry.update(outcome="outputs_differ", faster=None,
                                 reason="the outputs differ (parity), so the two sides did not "
                                        "do the same work: no speed verdict")
            verdicts.append(entry)
    return verdicts


def parity_summary(topic: Topic, checks: list[dict[str, Any]]) -> dict[str, Any]:
    """One status for the topic from its per-(variant, size) checks."""
    statuses = {check["status"] for check in checks}
    if not topic.parity.compare:
        status = "skipped"
        message = f"Not compared: {topic.parity.reason}"
    elif statuses == {"skipped"}:
        status = "skipped"
        message = f"Not compared: {checks[0]['message']}"
    elif "mismatch" in statuses:
        status = "mismatch"
        bad = [c for c in checks if c["status"] == "mismatch"]
        message = "; ".join(f"{c['variant']} at {topic.size_name}={c['size']}: {c['message']}"
                            for c in bad)
    elif statuses == {"match"}:
        status = "match"
        worst = max(checks, key=lambda c: c.get("max_abs_diff", 0.0))
        arrays = sum(len(c.get("leaves", [])) for c in checks)
        message = (f"JAX and PyTorch agree on all {arrays} output array(s) of {len(checks)} "
                   f"(variant, size) pair(s) within rtol={topic.parity.rtol:g}, "
                   f"atol={topic.parity.atol:g}; largest absolute difference "
                   f"{worst.get('max_abs_diff', 0.0):.3g}")
    elif "match" in statuses:
        status = "partial"
        missing = [c for c in checks if c["status"] != "match"]
        message = (f"Outputs agree where both sides ran; not compared for "
                   f"{len(missing)} of {len(checks)} (variant, size) pair(s): "
                   f"{missing[0]['message']}")
    elif statuses == {"nothing"}:
        status = "nothing"
        message = checks[0]["message"] if checks else "nothing to compare"
    else:
        status = "not_compared"
        message = checks[0]["message"] if checks else "no outputs to compare"
    return {"status": status, "message": message, "rtol": topic.parity.rtol,
            "atol": topic.parity.atol, "checks": checks}


def _row_environment(record: dict[str, Any], framework: str) -> dict[str, Any]:
    return {
        "machine": record.get("machine"),
        "framework": record.get("frameworks", {}).get(framework),
        "settings": record.get("settings"),
        "harness_version": record.get("harness_version"),
        "measured_at": record.get("measured_at"),
    }


def _joined(*parts: str) -> str:
    return "".join(part if part.endswith("\n") or not part else part + "\n"
                   for part in parts if part)


def measured_with(record: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """The measurement settings a record was made with (the current ones if it lacks them)."""
    current = settings.cache_key_fields()
    stored = record.get("settings")
    if not isinstance(stored, dict) or not isinstance(stored.get("measure"), dict):
        return current
    return {**current, **stored}


def assemble(entries: list[tuple[Topic, dict[str, Any], str]], machine: dict[str, Any],
             machine_name: str, settings: Settings, probe: dict[str, Any] | None = None
             ) -> dict[str, Any]:
    """The results.json document for the topics in `entries` (topic, record, "fresh"/"cache"),
    with the machine probe's bounds applied to the rows of topics that declare their work."""
    topics, results, parity, comparisons = [], [], {}, []
    latest: dict[str, tuple[str, dict[str, Any]]] = {}
    for topic, record, source in entries:
        setups = {(s["framework"], s["size"]): s for s in record["setups"]}
        rows = []
        for row in record["rows"]:
            setup = setups.get((row["framework"], row["size"]), {})
            derived = derive_row(row, topic, settings, measured_with(record, settings)[
                "measure"]["min_samples"])
            # stdout/stderr: everything printed, setup included; call_*: the call and show().
            derived["call_stdout"], derived["call_stderr"] = row.get("stdout", ""), \
                row.get("stderr", "")
            derived["stdout"] = _joined(setup.get("stdout", ""), row.get("stdout", ""))
            derived["stderr"] = _joined(setup.get("stderr", ""), row.get("stderr", ""))
            derived["environment"] = _row_environment(record, row["framework"])
            derived["measured_at"] = record["measured_at"]
            derived["machine_name"] = machine_name
            derived["bound_share"], derived["bound"] = bound_share(
                topic, row["size"], derived["median_s"], probe)
            rows.append(derived)
        results.extend(rows)
        comparisons.extend(compare_rows(topic, rows, settings, record["parity_checks"]))
        parity[topic.name] = parity_summary(topic, record["parity_checks"])
        topics.append({
            "topic": topic.name, "title": topic.title, "question": topic.question,
            "size_name": topic.size_name, "sizes": list(topic.sizes),
            "display_size": topic.display_size, "headline_size": topic.headline_size,
            "flops": topic.flops, "bytes": topic.bytes,
            "variants": [{"name": v.name, "label": v.label, "compiled": v.compiled,
                          "sides": list(v.sides), "versus": v.versus}
                         for v in topic.variants],
            "series": None if topic.series is None else {
                "variant": topic.series.variant, "title": topic.series.title,
                "x_label": topic.series.x_label, "y_label": topic.series.y_label,
                "size": topic.display_size},
            "measured_at": record["measured_at"], "source": source,
            "seconds": record.get("seconds"), "budget_s": topic.budget_s,
            "notes": record.get("notes", []),
            "setups": record["setups"],
        })
        for framework, described in record.get("frameworks", {}).items():
            if framework not in latest or record["measured_at"] > latest[framework][0]:
                latest[framework] = (record["measured_at"], described)
    newest = max((record for _, record, _ in entries), key=lambda r: r["measured_at"],
                 default={})
    measured = measured_with(newest, settings)
    return {
        "schema_version": SCHEMA_VERSION,
        "harness_version": HARNESS_VERSION,
        "generated_at": now_iso(),
        "machine_name": machine_name,
        "environment": {
            **machine,
            "frameworks": {fw: latest[fw][1] for fw in FRAMEWORKS if fw in latest},
            # The settings the numbers were measured with (a stored machine's, if stored).
            "measurement": measured["measure"],
            "noise_threshold": settings.noise_threshold,
            "significance_level": settings.significance_level,
            "min_speedup": settings.min_speedup,
            "timeout_s": measured["timeout_s"],
            "memory_limit_mb": measured["memory_limit_mb"],
        },
        "topics": topics,
        "results": results,
        "comparisons": comparisons,
        "parity": parity,
        "probe": probe,
    }
