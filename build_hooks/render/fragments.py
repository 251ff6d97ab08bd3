"""Pure functions from results to Markdown: topic blocks, examples, tables, environment.

Nothing here runs code or reads files: input is a `BuildResults` (topics and the results
document), output is Markdown for pymdown-extensions and Material. Printed output always goes
inside a code fence longer than any backtick run it contains, so it is shown as text, never
parsed as Markdown or HTML.
"""

from __future__ import annotations

import html
import re
import textwrap
from typing import Any

from build_hooks import FRAMEWORK_LABELS, FRAMEWORKS
from build_hooks.assemble.model import BuildResults, RowKey, index_rows
from build_hooks.core.formatting import (
    MISSING,
    finite_number,
    format_gflops,
    format_interval,
    format_ratio,
    format_seconds,
    format_timestamp,
    human_bytes,
)
from build_hooks.spec.topics import Topic, Variant

TAB_ORDER = ("pytorch", "jax")  # PyTorch first, as the article introduces it first


def _clean_error(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        return None
    return {key: value.get(key) if isinstance(value.get(key), str) else default
            for key, default in (("type", "an error"), ("message", ""), ("traceback", ""))}


def clean_row(row: dict[str, Any]) -> dict[str, Any]:
    """A results row with every field the renderer reads of the type it expects: a field that
    is missing or damaged becomes unknown (None, or empty text) instead of a crash."""
    clean = dict(row)
    for key in ("median_s", "iqr_s", "q25_s", "q75_s", "first_call_s", "gflops", "measure_s",
                "bound_share"):
        clean[key] = finite_number(row.get(key))
    clean["bound"] = row.get("bound") if row.get("bound") in ("compute", "memory") else None
    if clean["bound"] is None:
        clean["bound_share"] = None
    n = row.get("n")
    clean["n"] = n if isinstance(n, int) and not isinstance(n, bool) and n >= 0 else None
    for key in ("stdout", "stderr", "call_stdout", "call_stderr"):
        clean[key] = row.get(key) if isinstance(row.get(key), str) else ""
    clean["status"] = row.get("status") if isinstance(row.get("status"), str) else "unknown"
    clean["error"] = _clean_error(row.get("error"))
    for key in ("noisy", "incomplete", "blockable"):
        clean[key] = row.get(key) if isinstance(row.get(key), bool) else None
    environment = row.get("environment")
    clean["environment"] = environment if isinstance(environment, dict) else {}
    return clean


def _entry(results: BuildResults, topic: str) -> dict[str, Any]:
    """The topic's entry in the results, with damaged fields made empty."""
    entry = dict(results.entry(topic))
    setups = entry.get("setups")
    entry["setups"] = [s for s in setups if isinstance(s, dict)] if isinstance(setups, list) \
        else []
    notes = entry.get("notes")
    entry["notes"] = [n for n in notes if isinstance(n, str)] if isinstance(notes, list) else []
    return entry


def fence(text: str, language: str = "text", title: str | None = None,
          indent: int = 0, line_numbers: bool = False) -> str:
    """A fenced code block that cannot be closed early by the text inside it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    marks = "`" * max(3, longest + 1)
    options = f' title="{title}"' if title else ""
    options += ' linenums="1"' if line_numbers else ""
    body = text.rstrip("\n")
    block = f"{marks}{language}{options}\n{body}\n{marks}\n"
    return textwrap.indent(block, " " * indent, lambda line: True) if indent else block


def indent_lines(text: str, spaces: int = 4) -> str:
    return textwrap.indent(text, " " * spaces, lambda line: line.strip() != "")


# The measured parts (a topic's timings and parity sections, the tables and row lists of the
# home, execution and changes pages) are left out of the search index with Material's
# `data-search-exclude`: a search finds the prose and the code, not this build's numbers, and
# the index every reader's first page fetches is smaller. Material's search plugin strips the
# attribute from the page, so the HTML is what it was without it (but for a plain div around
# each excluded block).
SEARCH_EXCLUDED = '{ data-search-exclude="section" }'
"""attr_list's spelling of Material's search exclusion, after a heading: its whole section."""


def search_excluded(block: str) -> str:
    """`block` (Markdown) left out of the search index: Material's `data-search-exclude` in its
    block form, on a div that md_in_html fills with the rendered Markdown. Material's search
    plugin strips the attribute from the page, so the HTML gains only a plain div."""
    return f'<div markdown data-search-exclude="block">\n\n{block.rstrip()}\n\n</div>\n'


def table_cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def _rows(results: BuildResults, topic: str) -> list[dict[str, Any]]:
    key = ("clean_rows", topic)
    if key not in results.memo:
        results.memo[key] = [clean_row(row) for row in results.rows(topic)]
    return results.memo[key]


def _row_index(results: BuildResults, topic: str) -> dict[RowKey, dict[str, Any]]:
    return index_rows(_rows(results, topic))


def _setup_for(entry: dict[str, Any], framework: str, size: int) -> dict[str, Any] | None:
    return next((s for s in entry["setups"]
                 if s.get("framework") == framework and s.get("size") == size), None)


def _error_block(error: dict[str, Any], title: str, indent: int, kind: str = "failure") -> str:
    body = error.get("traceback") or f"{error.get('type')}: {error.get('message')}"
    block = f'!!! {kind} "{_quote(title)}"\n\n' + indent_lines(fence(body, "text")) + "\n"
    return indent_lines(block, indent) if indent else block


def _quote(text: str) -> str:
    return text.replace('"', "'")


def _status_title(framework: str, row: dict[str, Any]) -> str:
    """A one-line title (the first line of a longer message: the rest is in the block)."""
    return _status_title_text(framework, row).split("\n", 1)[0]


def _status_title_text(framework: str, row: dict[str, Any]) -> str:
    label = FRAMEWORK_LABELS[framework]
    error = row.get("error") or {}
    status = row.get("status")
    if status == "timeout":
        return f"{label}: {error.get('message', 'timed out')}"
    if status == "crashed":
        return f"{label}: {error.get('message', 'crashed')}"
    if status in ("not_run", "skipped"):
        return f"{label}: {error.get('message', status)}"
    if status == "expected_error":
        return f"{label} raises {error.get('type')} in {row['variant']}, as this topic expects"
    if status == "out_of_memory":
        return (f"{label} ran out of memory in {row['variant']} ({error.get('type')}; the "
                "worker memory limit is extra.comparison.memory_limit_mb)")
    return f"{label} raised {error.get('type', 'an error')} in {row['variant']}"


def render_side(topic: Topic, results: BuildResults, framework: str, indent: int = 0) -> str:
    """One framework's code, its printed output at the display size, and any error."""
    entry = _entry(results, topic.name)
    rows = _row_index(results, topic.name)
    size = topic.display_size
    source = topic.sides[framework]
    parts = [fence(source.text, "python", title=source.relative, line_numbers=True)]
    setup = _setup_for(entry, framework, size)
    setup_error = _clean_error(setup.get("error")) if setup else None
    if setup and setup.get("status") not in ("ok", None) and setup_error:
        parts.append(_error_block(setup_error, _status_title(framework, {
            "status": setup.get("status"), "error": setup_error, "variant": "setup"}), 0))
    printed = []
    if setup and (setup.get("stdout") or setup.get("stderr")):
        printed.append(("setup", str(setup.get("stdout") or ""), str(setup.get("stderr") or "")))
    errors = []
    for variant in topic.variants:
        row = rows.get((framework, variant.name, size))
        if row is None:
            continue
        # The setup's own output is shown once above; each variant shows what its call printed.
        printed.append((variant.name, row["call_stdout"], row["call_stderr"]))
        if row.get("status") != "ok" and row.get("error") and row.get("phase") != "setup":
            kind = "info" if row["status"] in ("expected_error", "skipped") else "failure"
            block = _error_block(row["error"], _status_title(framework, row), 0, kind)
            if block not in errors:  # a skip or crash repeats in every variant row
                errors.append(block)
    size_text = f"{topic.size_name} = {size}"
    several = len([p for p in printed if p[1] or p[2]]) > 1
    for name, stdout, stderr in printed:
        if not stdout and not stderr:
            continue
        what = f" of `{name}`" if several else ""
        if stdout:
            parts.append(f"Output{what} ({size_text}):\n\n" + fence(stdout))
        if stderr:
            parts.append(f"Standard error{what} ({size_text}):\n\n" + fence(stderr))
    if not any(p[1] or p[2] for p in printed) and not errors:
        parts.append(f"*Printed nothing ({size_text}).*\n")
    parts.extend(errors)
    text = "\n".join(parts)
    return indent_lines(text, indent) if indent else text


def render_code_tabs(topic: Topic, results: BuildResults) -> str:
    tabs = []
    for framework in TAB_ORDER:
        tabs.append(f'=== "{FRAMEWORK_LABELS[framework]}"\n\n'
                    + render_side(topic, results, framework, indent=4))
    return "\n".join(tabs)


def render_inputs(topic: Topic, results: BuildResults) -> str:
    entry = _entry(results, topic.name)
    digests = {s.get("framework"): s.get("inputs_digest") for s in entry["setups"]
               if s.get("size") == topic.display_size}
    same = isinstance(digests.get("jax"), str) and digests.get("jax") == digests.get("pytorch")
    note = (f"Both sides received identical arrays (SHA-256 of the inputs: "
            f"`{digests['jax'][:16]}…` on both)." if same else
            "The inputs digest could not be confirmed on both sides for this build.")
    body = fence(topic.inputs.text, "python", title=topic.inputs.relative, line_numbers=True)
    return (f'??? info "Shared input data: `{topic.inputs.relative}`"\n\n'
            + indent_lines(body + "\n" + note + "\n"))


def _row_notes(row: dict[str, Any], min_samples: int) -> list[str]:
    notes = []
    if row.get("status") != "ok":
        error = row.get("error") or {}
        kind = {"timeout": "timed out", "crashed": "crashed", "not_run": "not run",
                "skipped": "skipped", "out_of_memory": "out of memory",
                "expected_error": f"raises {error.get('type')} (expected)"}.get(
            row["status"], f"error: {error.get('type', row['status'])}")
        notes.append(kind)
    if row.get("noisy"):
        notes.append("noisy")
    if row.get("incomplete"):
        notes.append(f"only {row['n'] if row['n'] is not None else '?'} of {min_samples} "
                     "samples")
    if row.get("blockable") is False and row.get("status") == "ok":
        notes.append("returned no array to wait for")
    fresh: dict[str, Any] = row["fresh"] if isinstance(row.get("fresh"), dict) else {}
    if fresh.get("cache") in ("cold", "warm"):
        notes.append(f"each sample a fresh process, {fresh['cache']} compilation cache")
    compiled: dict[str, Any] = row["compilations"] \
        if isinstance(row.get("compilations"), dict) else {}
    breaks = compiled.get("graph_breaks")
    if isinstance(breaks, int) and breaks > 0:
        notes.append(f"{breaks} graph break{'s' if breaks != 1 else ''}")
    again = row.get("timed_compilations")
    if isinstance(again, int) and again > 0:
        notes.append(f"compiled {again} more time{'s' if again != 1 else ''} while timed")
    return notes


def first_call_cell(row: dict[str, Any]) -> str:
    """The first call's time, with what it compiled by the framework's own count."""
    text = format_seconds(row.get("first_call_s"))
    compiled: dict[str, Any] = row["compilations"] \
        if isinstance(row.get("compilations"), dict) else {}
    said = []
    count, hits = compiled.get("compilations"), compiled.get("cache_hits")
    if isinstance(count, int) and not isinstance(count, bool) and count > 0:
        said.append(f"{count} compilation{'s' if count != 1 else ''}")
    if isinstance(hits, int) and not isinstance(hits, bool) and hits > 0:
        said.append(f"{hits} loaded from the compilation cache")
    return text + (f" ({', '.join(said)})" if said else "")


def _verdict_text(comparison: dict[str, Any] | None) -> str:
    """The verdict with its confidence interval, e.g. "**PyTorch** 2.93× faster (95% CI
    2.71–3.10×)"; "level", "inconclusive" or "outputs differ" otherwise."""
    if comparison is None or finite_number(comparison.get("ratio")) is None:
        return MISSING
    outcome = comparison.get("outcome")
    if outcome == "outputs_differ":
        return "**outputs differ**: no verdict"
    low, high = (finite_number(comparison.get(k)) for k in ("ratio_ci_low", "ratio_ci_high"))
    confidence = finite_number(comparison.get("confidence")) or 0.95
    interval = (f"{confidence * 100:.0f}% CI {format_interval(low, high)}"
                if low is not None and high is not None else "no interval")
    leader = FRAMEWORK_LABELS.get(comparison.get("leader") or "", "")
    if outcome == "faster" and comparison.get("faster") in FRAMEWORK_LABELS:
        return f"**{FRAMEWORK_LABELS[comparison['faster']]}** " \
               f"{format_ratio(comparison['ratio'])} faster ({interval})"
    if outcome == "level":
        return f"level ({leader} {format_ratio(comparison['ratio'])}, {interval})"
    if outcome == "inconclusive":
        return f"inconclusive ({leader} {format_ratio(comparison['ratio'])}, {interval})"
    return f"no verdict: {comparison.get('reason', '')}"  # damaged or unknown outcome


def variant_title(topic: Topic, variant: Variant) -> str:
    """The variant's label, naming its side and partner when it is on one side only, e.g.
    "torch.func.grad (PyTorch only; against JAX's value_and_grad)"."""
    if variant.sides == FRAMEWORKS:
        return variant.label
    own = " and ".join(FRAMEWORK_LABELS[fw] for fw in variant.sides)
    partner = topic.variant(variant.versus) if variant.versus else None
    if partner is None:
        return f"{variant.label} ({own} only)"
    other = next(fw for fw in FRAMEWORKS if fw not in variant.sides)
    return f"{variant.label} ({own} only; against {FRAMEWORK_LABELS[other]}'s {partner.label})"


def render_timings(topic: Topic, results: BuildResults) -> str:
    rows = _row_index(results, topic.name)
    verdicts = {(c["variant"], c["size"]): c for c in results.comparisons(topic.name)}
    min_samples = results.data["environment"]["measurement"]["min_samples"]
    has_flops = topic.flops is not None
    has_bound = any(row.get("bound_share") is not None for row in rows.values())
    has_peak = any(row.get("peak_bytes") is not None for row in rows.values())
    several = len(topic.variants) > 1  # one variant: its label is in the charts and the text
    header = ["Variant"] if several else []
    header += [topic.size_name, "Framework", "Median", "IQR", "Samples", "First call"]
    header += ["GFLOP/s"] if has_flops else []
    header += ["Share of bound"] if has_bound else []
    header += ["Peak memory"] if has_peak else []
    header += ["Verdict"]
    numeric = ("Median", "IQR", "Samples", "First call", "GFLOP/s", "Share of bound",
               "Peak memory", topic.size_name)
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---:" if h in numeric else "---" for h in header) + "|"]
    for variant in topic.variants:
        for size in topic.sizes:
            verdict = _verdict_text(verdicts.get((variant.name, size)))
            index = 0
            for framework in variant.sides:
                row = rows.get((framework, variant.name, size))
                if row is None:
                    continue
                cells = [variant_title(topic, variant) if index == 0 else ""] if several else []
                # A row's notes (noisy, failed, incomplete) go with its framework: a column of
                # their own would push the verdict out of view on a laptop screen.
                notes = _row_notes(row, min_samples)
                cells += [
                    str(size) if index == 0 else "",
                    FRAMEWORK_LABELS[framework] +
                    "".join(f" · *{escape_markdown(n)}*" for n in notes),
                    format_seconds(row.get("median_s")),
                    format_seconds(row.get("iqr_s")),
                    str(row.get("n", 0)) if row.get("n") else MISSING,
                    first_call_cell(row),
                ]
                if has_flops:
                    gflops = row.get("gflops")
                    cells.append(format_gflops(gflops))
                if has_bound:
                    cells.append(format_share(row))
                if has_peak:
                    cells.append(format_peak(row))
                cells.append(verdict if index == 0 else "")
                lines.append("| " + " | ".join(table_cell(c) for c in cells) + " |")
                index += 1
    legend = _peak_legend(rows.values()) if has_peak else ""
    return "\n".join(lines) + "\n" + legend


BOUND_WORDS = {"compute": "compute", "memory": "memory bandwidth"}

# A peak-memory cell names its instrument briefly; the legend under the table gives it whole.
PEAK_LABELS = (("XLA", "XLA analysis"), ("torch.cuda", "CUDA allocator"),
               ("torch.profiler", "profiler"), ("peak RSS", "fresh-process RSS"))


def _peak_label(method: str) -> str:
    return next((label for prefix, label in PEAK_LABELS if method.startswith(prefix)), method)


def format_peak(row: dict[str, Any]) -> str:
    peak, method = row.get("peak_bytes"), row.get("peak_method")
    if not isinstance(peak, int) or isinstance(peak, bool) or not isinstance(method, str):
        return MISSING
    return f"{human_bytes(peak)} ({_peak_label(method)})"


def _peak_legend(rows: Any) -> str:
    methods = sorted({row["peak_method"] for row in rows
                      if isinstance(row.get("peak_method"), str)})
    if not methods:
        return ""
    return ("\nPeak memory is what one call adds at its peak (outputs and temporaries, not its "
            "arguments), measured by: " + "; ".join(
                f"*{_peak_label(m)}*: {escape_markdown(m)}" for m in methods) + ". The "
            "instruments differ in what they see, so compare a framework's own figures with "
            "each other, and the two frameworks by the fresh-process RSS.\n")


def format_share(row: dict[str, Any]) -> str:
    share = row.get("bound_share")
    if share is None:
        return MISSING
    shown = f"{share:.0%}" if share >= 0.01 else f"{share * 100:.2g}%"
    return f"{shown} ({row['bound']})"


def render_bound(topic: Topic, results: BuildResults, methodology: str | None) -> str:
    """How close the topic came to the machine's limit: the probe's bound, and each framework's
    best share of it at the largest size, from the rows."""
    probe = results.data.get("probe")
    rows = [r for r in _rows(results, topic.name) if r.get("bound_share") is not None]
    if not probe or not rows:
        return ""
    largest = max(r["size"] for r in rows)
    best = []
    for framework in FRAMEWORKS:
        mine = [r for r in rows if r["framework"] == framework and r["size"] == largest]
        if mine:
            top = max(mine, key=lambda r: r["bound_share"])
            label = topic.variant(top["variant"])
            best.append(f"{FRAMEWORK_LABELS[framework]} {top['bound_share']:.0%} "
                        f"({escape_markdown(label.label if label else top['variant'])})")
    kinds = sorted({r["bound"] for r in rows})
    try:
        described = [_bound_text(probe, kind) for kind in kinds]
    except (KeyError, TypeError, ValueError):  # a damaged stored probe: no sentence
        return ""
    how = (f" ([how]({methodology}#how-close-to-the-machines-limit))" if methodology else "")
    quick = " Quick build: the probe's sizes are too small to show the machine." \
        if probe.get("quick") else ""
    if any(r["bound_share"] > 1 for r in rows):
        quick += (" A share above 100% means the row beat the probe's rate: its data fit in the "
                  "processor's caches, which the probe's arrays are made too large to do.")
    return (f"**Share of the machine's bound** at {topic.size_name}={largest}, the best row of "
            f"each framework: {'; '.join(best)}. The bound is this machine's probe, measured "
            f"{format_timestamp(probe['measured_at'])}: {'; '.join(described)}; a row's share "
            "is the least time its declared work needs at that rate over its median"
            f"{how}.{quick}\n")


def _bound_text(probe: dict[str, Any], kind: str) -> str:
    bound = probe["bounds"][kind]
    source = probe["frameworks"][bound["framework"]][kind]
    work = (f"a float32 matmul of side {source['n']}" if kind == "compute"
            else f"a scale over {source['bytes'] / 2**20:.0f} MiB")
    return (f"{bound['rate']:.3g} {bound['unit']} of {BOUND_WORDS[kind]} ({work}, "
            f"{FRAMEWORK_LABELS[bound['framework']]}'s the better)")


def render_probe(results: BuildResults, heading: str) -> str:
    """The machine probe on the environment page: each framework's figures and the bound."""
    probe = results.data.get("probe")
    if not isinstance(probe, dict):
        return (f"{heading} This machine's bounds\n\n*No machine probe with these results: "
                "a build measures it when a topic declares `flops` or `bytes`.*\n")
    lines = ["| Framework | Compute (float32 matmul) | Memory (scale, read + written) |",
             "|---|---:|---:|"]
    try:
        for framework, found in probe["frameworks"].items():
            compute, memory = found["compute"], found["memory"]
            lines.append(f"| {FRAMEWORK_LABELS[framework]} on {found.get('device_kind')} | "
                         f"{compute['rate']:.3g} GFLOP/s (n={compute['n']}, `{compute['call']}`) "
                         f"| {memory['rate']:.3g} GB/s ({memory['bytes'] / 2**20:.0f} MiB, "
                         f"`{memory['call']}`) |")
        bounds = "; ".join(_bound_text(probe, kind) for kind in ("compute", "memory"))
    except (KeyError, TypeError, ValueError):
        return f"{heading} This machine's bounds\n\n*The stored machine probe is damaged.*\n"
    quick = (" A quick build's probe uses small sizes: it shows the flow, not the machine."
             if probe.get("quick") else "")
    return (f"{heading} This machine's bounds\n\nMeasured {format_timestamp(probe['measured_at'])}"
            f", each framework's best of several calls after an untimed one. The bound every "
            f"topic's share is measured against: {bounds}.{quick}\n\n" + "\n".join(lines)
            + "\n")


def _row_environment(results: BuildResults, topic: str, framework: str) -> dict[str, Any]:
    row = next((r for r in _rows(results, topic) if r["framework"] == framework), None)
    return row["environment"] if row else {}


def render_provenance(topic: Topic, results: BuildResults, links: dict[str, str]) -> str:
    """Where and when these numbers were measured, in one sentence."""
    entry = _entry(results, topic.name)
    env = results.data["environment"]
    frameworks = []
    machine: dict[str, Any] = env
    for framework in FRAMEWORKS:
        row_env = _row_environment(results, topic.name, framework)
        if isinstance(row_env.get("machine"), dict):
            machine = row_env["machine"]
        described = row_env.get("framework")
        if isinstance(described, dict) and not described.get("unavailable"):
            frameworks.append(f"{FRAMEWORK_LABELS[framework]} {described.get('version')} on "
                              f"{described.get('accelerator') or described.get('backend')}, "
                              f"{described.get('intra_op_threads') or '?'} threads")
    gpu = ", ".join(machine.get("gpus") or []) or "no GPU"
    source = {"fresh": "measured in this build", "cache": "from the cache",
              "stored": f"from {results.origin}"}.get(entry.get("source", ""), "origin unknown")
    text = (f"Measured {format_timestamp(entry.get('measured_at'))} ({source}) on "
            f"{machine.get('cpu')} ({machine.get('schedulable_cores')} cores, {gpu}); "
            + "; ".join(frameworks)
            + ". Each sample is the mean of a block of calls, each call waited for until its "
            "result was ready; the first call is timed apart.")
    see = [f"[{name.capitalize()}]({link})" for name, link in links.items()]
    if see:
        text += " See " + " and ".join(see) + "."
    if env["measurement"].get("quick"):
        overlap = (" with both frameworks' setup and first calls run at once and new "
                   "processes two at a time"
                   if env["measurement"].get("overlap_prepare") else "")
        text = ('!!! warning "Quick build"\n    These numbers come from a quick build (short '
                "measurements for testing, at the display and headline sizes only"
                f"{overlap}); do not cite them.\n\n") + text
    return text + "\n"


def render_parity(topic: Topic, results: BuildResults) -> str:
    parity = results.parity(topic.name)
    kind, title = {
        "match": ("success", "Outputs match"),
        "mismatch": ("failure", "Outputs differ"),
        "partial": ("warning", "Outputs match where both sides ran"),
        "skipped": ("info", "Outputs not compared"),
        "nothing": ("warning", "Nothing to compare"),
    }.get(parity["status"], ("warning", "Outputs not compared"))
    return f'!!! {kind} "{title}"\n\n' + indent_lines(escape_markdown(parity["message"])) + "\n"


def escape_markdown(text: str) -> str:
    return re.sub(r"([\\`*_<>\[\]])", r"\\\1", text)


def render_notes(topic: Topic, results: BuildResults) -> str:
    notes = _entry(results, topic.name)["notes"]
    if not notes:
        return ""
    return "\n".join(f"- {escape_markdown(note)}" for note in notes) + "\n"


def render_allocator_note(topic: Topic, report: dict[str, Any] | None,
                          methodology: str | None) -> str:
    """The rows whose time `make validate` found more than 25% different in a process with
    glibc's default allocator settings: both figures, and what causes the difference."""
    if not report:
        return ""
    low, high = report.get("allocator_range", (0.8, 1.25))
    differ = [row for row in report.get("rows", []) if row["topic"] == topic.name
              and row.get("allocator_ratio") is not None
              and not low <= row["allocator_ratio"] <= high]
    if not differ:
        return ""
    dates = sorted({format_timestamp(row.get("measured_at") or report["measured_at"])
                    for row in differ})
    lines = ["| Framework | Variant | Size | Site's allocator setting | Default allocator | "
             "Default / site |", "|---|---|---:|---:|---:|---:|"]
    for row in differ:
        lines.append(f"| {FRAMEWORK_LABELS[row['framework']]} | "
                     f"{escape_markdown(row['variant'])} | {row['size']} | "
                     f"{format_seconds(row['independent_median_s'])} | "
                     f"{format_seconds(row['default_allocator_median_s'])} | "
                     f"{row['allocator_ratio']:.2f}× |")
    slower = [row for row in differ if row["allocator_ratio"] > high]
    faster = [row for row in differ if row["allocator_ratio"] < low]
    causes = []
    if slower:
        causes.append(
            "Where the default is slower, the cause is the memory the call allocates and frees: "
            "glibc's default settings hand large freed blocks back to the operating system "
            "(blocks above the mmap threshold, and free memory at the top of the heap above "
            "the trim threshold), so the next call maps them again and page-faults them in, "
            "page by page. The site's setting keeps them for reuse, as jemalloc or TCMalloc "
            "would.")
    if faster:
        causes.append(
            "Where the default is faster, the site's setting costs this call time: memory kept "
            "for reuse can be colder in the caches, or the heap more fragmented, than fresh "
            "pages.")
    where = (f" The [methodology]({methodology}#the-same-memory-allocator-policy) explains the "
             "setting." if methodology else "")
    body = (f"`make validate` ({', '.join(dates)}) also timed every row with the same "
            "independent timer in a worker that runs with glibc's default allocator settings "
            "(no `GLIBC_TUNABLES`), as the code runs when you copy it into your own script. "
            "These rows differ from the site's setting by more than 25%:\n\n"
            + "\n".join(lines) + "\n\n" + " ".join(causes) + where)
    return '!!! note "With the default memory allocator"\n\n' + indent_lines(body) + "\n"


# A chart's box on the page in CSS pixels; charts.py draws the figure at a hundredth of it in
# inches, so the drawing and the reserved box have one aspect ratio.
CHART_SIZE = (700, 360)


def render_charts(topic: Topic, results: BuildResults, page_uri: str) -> str:
    """Each chart as a figure: the light and the dark drawing (Material shows the one that
    matches the palette), its title as alternative text, and a caption that describes it in
    numbers and says where the same numbers are as text."""
    return "\n".join(chart_figure(chart, page_uri, "The same numbers are in the table below.")
                     for chart in results.charts.get(topic.name, []))


def chart_figure(chart: Any, page_uri: str, where_else: str, caption: str | None = None) -> str:
    """A chart as a figure: the light and the dark drawing (Material shows the one that matches
    the palette), its title as alternative text, its description (or a shorter `caption`, when
    the drawing's own text description is long) as the caption."""
    alt = _quote(chart.title).replace("]", ")").replace("[", "(")
    width, height = chart.size
    images = "\n".join(
        f"![{alt}]({relative_link(chart.path(scheme), page_uri)}#only-{scheme})"
        f'{{ width="{width}" height="{height}" loading="lazy" }}'
        for scheme in ("light", "dark"))
    return (f'<figure class="comparison-chart" markdown>\n{images}\n<figcaption>'
            f"{html.escape(caption or chart.description)} {where_else}</figcaption>\n"
            "</figure>\n")


def relative_link(target: str, page_uri: str) -> str:
    """Link from the page at `page_uri` (e.g. topics/matmul.md) to `target` (docs-relative)."""
    return "../" * page_uri.count("/") + target


def topic_link(topic: str, page_uri: str) -> str:
    return relative_link(f"topics/{topic}.md", page_uri)


def comparison_cell(topic: Topic, results: BuildResults) -> str:
    """One machine's measured verdicts for a topic at its headline size, for the table."""
    verdicts = {(c["variant"], c["size"]): c for c in results.comparisons(topic.name)}
    rows = _row_index(results, topic.name)
    parts = []
    for variant, pair in zip(topic.variants, topic.pairs(), strict=True):
        size = topic.headline_size
        comparison = verdicts.get((variant.name, size))
        medians = [format_seconds(rows.get((fw, pair.name(fw) or "", size), {}).get("median_s"))
                   for fw in FRAMEWORKS]
        text = (f"{variant_title(topic, variant)} ({topic.size_name}={size}): "
                f"{_verdict_text(comparison)}; JAX {medians[0]}, PyTorch {medians[1]}")
        if variant.compiled:
            firsts = [format_seconds(rows.get((fw, pair.name(fw) or "", size), {}).get(
                "first_call_s")) for fw in FRAMEWORKS]
            text += f"; first call with compilation: JAX {firsts[0]}, PyTorch {firsts[1]}"
        parts.append(text)
    return "<br>".join(map(table_cell, parts))


def parity_word(topic: Topic, results: BuildResults) -> str:
    status = results.parity(topic.name)["status"]
    return {"match": "match", "mismatch": "**differ**", "skipped": "not compared",
            "nothing": "nothing to compare", "partial": "match (partly run)"}.get(
        status, "not compared")


def _human_bytes(count: int | None) -> str:
    return human_bytes(count) if count else MISSING


def render_environment(results: BuildResults, heading: str = "##") -> str:
    """One machine's environment: hardware and software, each framework, the settings."""
    env = results.data["environment"]
    lines = ["| | |", "|---|---|",
             f"| Machine name | `{results.data['machine_name']}` |",
             f"| Harness version | {results.data['harness_version']} |",
             f"| Page generated | {format_timestamp(results.data['generated_at'])} |",
             f"| CPU | {table_cell(str(env.get('cpu')))} ({env.get('schedulable_cores')} "
             f"schedulable of {env.get('cpu_count')} cores) |",
             f"| Memory | {_human_bytes(env.get('memory_bytes'))} |",
             f"| GPUs | {table_cell(', '.join(env.get('gpus') or []) or 'none')} |",
             f"| NVIDIA driver | {env.get('nvidia_driver') or MISSING} |",
             f"| OS | {table_cell(str(env.get('os')))} |",
             f"| Python | {env.get('python')} |"]
    for name, version in env.get("packages", {}).items():
        lines.append(f"| {name} | {version or 'not installed'} |")
    for name, value in env.get("variables", {}).items():
        lines.append(f"| `{name}` | `{table_cell(value)}` |")
    parts = [f"{heading} Machine\n", "\n".join(lines) + "\n"]
    for framework in FRAMEWORKS:
        described = env.get("frameworks", {}).get(framework)
        parts.append(f"{heading} {FRAMEWORK_LABELS[framework]}\n")
        if not described:
            parts.append("*No measurement with this framework in this build.*\n")
            continue
        if described.get("unavailable"):
            error = described["unavailable"]
            parts.append(f"*Not available: {escape_markdown(str(error.get('message')))}*\n")
            continue
        table = ["| Setting | Value |", "|---|---|"]
        for key, value in described.items():
            if isinstance(value, dict):
                value = ", ".join(f"{k}: {v}" for k, v in value.items())
            table.append(f"| {key} | {table_cell(str(value))} |")
        parts.append("\n".join(table) + "\n")
    parts.append(render_probe(results, heading))
    measurement = env["measurement"]
    parts.append(f"{heading} Measurement settings\n")
    parts.append("\n".join([
        "| Setting | Value |", "|---|---|",
        *(f"| {k} | {v} |" for k, v in measurement.items()),
        f"| noise threshold (IQR / median) | {env['noise_threshold']:g} |",
        f"| significance level | {env['significance_level']:g} |",
        f"| minimum speed-up to name a winner | {env['min_speedup']:g}× |",
        f"| timeout per topic and framework | {env['timeout_s']:g} s |",
        f"| worker memory limit | {env['memory_limit_mb']} MiB |",
    ]) + "\n")
    return "\n".join(parts)


def render_validation(reports: list[dict[str, Any]]) -> str:
    """The stored `make validate` reports: harness median over an independent timer's."""
    if not reports:
        return ("*No validation report is stored yet: run `make validate` and commit "
                "`results/<machine>/validation.json`.*\n")
    parts = []
    for report in reports:
        machine = report["machine"]
        low, high = report["range"]
        verdict = (f"every ratio within {low}-{high}" if report["all_in_range"]
                   else f"**not** every ratio within {low}-{high}")
        frameworks = "; ".join(
            f"{FRAMEWORK_LABELS[fw]} {info.get('version')} ({info.get('backend')}, "
            f"{info.get('intra_op_threads')} threads)"
            for fw, info in report.get("frameworks", {}).items())
        parts.append(
            f"Measured {format_timestamp(report['measured_at'])} on `{report['machine_name']}`: "
            f"{machine.get('cpu')}, {machine.get('schedulable_cores')} cores, "
            f"{', '.join(machine.get('gpus') or []) or 'no GPU'}; {frameworks}; harness "
            f"version {report['harness_version']}. Result: {verdict} "
            f"({len(report['rows'])} rows).\n")
        allocator_low, allocator_high = report.get("allocator_range", (0.8, 1.25))
        lines = ["| Topic | Framework | Variant | Size | Harness | Independent | Ratio "
                 "| Site's stored median / independent | Default allocator / site's |",
                 "|---|---|---|---:|---:|---:|---:|---:|---:|"]
        for row in report["rows"]:
            site = f"{row['site_ratio']:.2f}" if row.get("site_ratio") else MISSING
            ratio = f"{row['ratio']:.2f}"
            if not low <= row["ratio"] <= high:
                ratio = f"**{ratio}**"
            allocator = finite_number(row.get("allocator_ratio"))
            allocator_cell = MISSING if allocator is None else f"{allocator:.2f}"
            if allocator is not None and not allocator_low <= allocator <= allocator_high:
                allocator_cell = f"**{allocator_cell}**"
            lines.append(f"| {row['topic']} | {FRAMEWORK_LABELS[row['framework']]} | "
                         f"{row['variant']} | {row['size']} | "
                         f"{format_seconds(row['harness_median_s'])} | "
                         f"{format_seconds(row['independent_median_s'])} | {ratio} | {site} | "
                         f"{allocator_cell} |")
        parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)


def render_execution_report(results: BuildResults, page_uri: str) -> str:
    """One row per topic and framework: how it went, what it cost, and where it came from."""
    lines = ["| Topic | Framework | Status | First calls | Time measuring | Source | Measured |",
             "|---|---|---|---:|---:|---|---|"]
    total = 0.0
    for topic in results.topics:
        entry = _entry(results, topic.name)
        rows = _rows(results, topic.name)
        for framework in FRAMEWORKS:
            mine = [r for r in rows if r["framework"] == framework]
            if not mine:
                continue
            counts: dict[str, int] = {}
            for row in mine:
                counts[row["status"]] = counts.get(row["status"], 0) + 1
            status = ", ".join(f"{count} {name.replace('_', ' ')}"
                               for name, count in sorted(counts.items()))
            firsts = [r["first_call_s"] for r in mine if r["first_call_s"] is not None]
            spent = sum(r["measure_s"] or 0.0 for r in mine)
            total += spent
            source = {"fresh": "measured in this build", "cache": "cache"}.get(
                entry.get("source", ""), MISSING)
            link = f"[{table_cell(topic.title)}]({topic_link(topic.name, page_uri)})"
            lines.append(f"| {link} | {FRAMEWORK_LABELS[framework]} | {status} | "
                         f"{format_seconds(sum(firsts)) if firsts else MISSING} | "
                         f"{format_seconds(spent)} | {source} | "
                         f"{format_timestamp(entry.get('measured_at'))} |")
    ran = len(results.ran)
    summary = (f"This build measured {ran} of {len(results.topics)} topic(s); the rest came "
               f"from the cache. Time spent measuring, all topics: {format_seconds(total)}.")
    return summary + "\n\n" + search_excluded("\n".join(lines))


def render_speedup(topic: Topic, results: BuildResults, baseline: Variant, variant: Variant,
                   significance_level: float, min_speedup: float) -> str:
    """Within each framework: one variant against another at the headline size, as a verdict
    with its confidence interval, from this machine's samples (e.g. vmap against a loop)."""
    from build_hooks.core.stats import compare

    rows = _row_index(results, topic.name)
    size = topic.headline_size
    level = f"{(1 - significance_level) * 100:.0f}%"
    lines = []
    for framework in FRAMEWORKS:
        slow = rows.get((framework, baseline.name, size), {})
        fast = rows.get((framework, variant.name, size), {})
        label = FRAMEWORK_LABELS[framework]
        if not (slow.get("status") == fast.get("status") == "ok" and slow.get("samples")
                and fast.get("samples")):
            lines.append(f"- **{label}**: not measured (both variants are needed)")
            continue
        verdict = compare(variant.label, fast["samples"], baseline.label, slow["samples"],
                          significance_level, min_speedup)
        interval = (f"{level} CI {format_interval(verdict.ratio_low, verdict.ratio_high)}"
                    if verdict.ratio_low > 0 and verdict.ratio_high < float("inf")
                    else "no interval: too few samples")
        if verdict.outcome == "faster":
            text = f"*{escape_markdown(verdict.faster or '')}* {format_ratio(verdict.ratio)} " \
                   f"faster ({interval})"
        else:
            text = f"{verdict.outcome} ({format_ratio(verdict.ratio)}, {interval})"
        lines.append(f"- **{label}**: {text}; medians {format_seconds(fast.get('median_s'))} "
                     f"and {format_seconds(slow.get('median_s'))}")
    head = (f"*{escape_markdown(variant.label)}* against *{escape_markdown(baseline.label)}* "
            f"within each framework, {topic.size_name}={size}, on "
            f"{results.label or results.data.get('machine_name') or 'this machine'}:")
    return head + "\n\n" + "\n".join(lines) + "\n"
