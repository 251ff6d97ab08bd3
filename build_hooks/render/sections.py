"""Pages across machines: a topic page, the comparison table, the environment, the changes.

With one machine the layout is that of `render`'s pieces in order. With several, the timings
and the parity verdict of each machine go in content tabs labelled with its accelerator and date
(tabs with the same label are linked across the page and the site). A machine without a result
for the topic says so; a result measured before the topic's files changed is marked stale with
its date, never shown as current.

The measured parts are left out of search (fragments.SEARCH_EXCLUDED, search_excluded).
"""

from __future__ import annotations

from typing import Any

from build_hooks import FRAMEWORK_LABELS
from build_hooks.assemble.model import BuildResults, Site
from build_hooks.render import fragments
from build_hooks.render.charts import SUMMARY
from build_hooks.render.fragments import (
    MISSING,
    escape_markdown,
    fence,
    format_seconds,
    format_timestamp,
    indent_lines,
    table_cell,
    topic_link,
)
from build_hooks.spec.topics import Topic, Variant


def _code_only(topic: Topic) -> str:
    """The two implementations when no machine has run them (yet)."""
    tabs = []
    for framework in fragments.TAB_ORDER:
        source = topic.sides[framework]
        tabs.append(f'=== "{FRAMEWORK_LABELS[framework]}"\n\n' + indent_lines(
            fence(source.text, "python", title=source.relative, line_numbers=True)))
    return "\n".join(tabs)


def _absent(topic: Topic, machine: BuildResults | None, frozen: bool) -> str:
    where = f" on {machine.label}" if machine else ""
    how = ("measure it on that machine and save its results (see the README)" if frozen
           else "it was added after that machine's last refresh")
    return (f'!!! warning "Not measured{where}"\n\n    No result for this topic{where}: {how}.\n')


def _stale_note(topic: Topic, machine: BuildResults) -> str:
    measured = machine.stale.get(topic.name)
    if not measured:
        return ""
    return (f'!!! warning "Stale: measured {format_timestamp(measured)}"\n\n    This topic\'s '
            "code or metadata changed after these numbers were measured on this machine. "
            "They are kept for reference and are not the numbers of the code shown above.\n")


def _timings(topic: Topic, machine: BuildResults, links: dict[str, str], page_uri: str,
             validation: dict[str, dict[str, Any]]) -> str:
    report = validation.get(machine.data.get("machine_name", ""))
    parts = [_stale_note(topic, machine), fragments.render_provenance(topic, machine, links),
             fragments.render_charts(topic, machine, page_uri),
             fragments.render_timings(topic, machine),
             fragments.render_bound(topic, machine, links.get("methodology")),
             fragments.render_allocator_note(topic, report, links.get("methodology"))]
    return "\n".join(p for p in parts if p)


def _parity(topic: Topic, machine: BuildResults) -> str:
    return "\n".join(p for p in (_stale_note(topic, machine),
                                 fragments.render_parity(topic, machine),
                                 fragments.render_notes(topic, machine)) if p)


def _output_source(topic: Topic, site: Site) -> BuildResults | None:
    """The machine whose printed output the page shows: one with a current result if any."""
    holders = site.holders(topic.name)
    current = [m for m in holders if topic.name not in m.stale]
    candidates = current or holders
    return candidates[0] if candidates else None


def _stale_output_note(topic: Topic, machine: BuildResults) -> str:
    if topic.name not in machine.stale:
        return ""
    return (f'!!! warning "Output of an earlier version"\n\n    The output above was printed '
            f"when this topic was measured on {machine.label}, "
            f"{format_timestamp(machine.stale[topic.name])}, before its code last changed.\n")


def _per_machine(topic: Topic, site: Site, block) -> str:
    """A content tab per machine, each with `block(machine)` or a note that it has none."""
    tabs = []
    for machine in site.machines:
        body = block(machine) if machine.topic(topic.name) else \
            _absent(topic, machine, site.frozen)
        tabs.append(f'=== "{machine.label}"\n\n' + indent_lines(body))
    return "\n".join(tabs)


def render_topic(topic: Topic, site: Site, links: dict[str, str], page_uri: str,
                 validation: dict[str, dict[str, Any]] | None = None) -> str:
    """The whole generated part of a topic page; `validation` holds each machine's stored
    `make validate` report by machine name (for the default-allocator note)."""
    validation = validation or {}
    main = _output_source(topic, site)
    parts = [f'!!! question "The question"\n\n    {topic.question}\n',
             (topic.summary + "\n") if topic.summary else "", "## Code\n"]
    if main is None:
        parts += [_code_only(topic), _absent(topic, site.machines[0] if site.machines else None,
                                             site.frozen)]
        return "\n".join(p for p in parts if p)
    parts += [fragments.render_code_tabs(topic, main), _stale_output_note(topic, main),
              fragments.render_inputs(topic, main)]
    if len(site.machines) == 1:
        parts += [f"## Timings {fragments.SEARCH_EXCLUDED}\n",
                  _timings(topic, main, links, page_uri, validation),
                  f"## Parity {fragments.SEARCH_EXCLUDED}\n", _parity(topic, main)]
    else:
        note = (f"Output above: {main.label}. Numbers from {len(site.machines)} machines; "
                "choose one.\n")
        parts += [f"## Timings {fragments.SEARCH_EXCLUDED}\n", note,
                  _per_machine(topic, site, lambda m: _timings(topic, m, links, page_uri,
                                                                 validation)),
                  f"## Parity {fragments.SEARCH_EXCLUDED}\n",
                  _per_machine(topic, site, lambda m: _parity(topic, m))]
    return "\n".join(p for p in parts if p)


def render_example(topic: Topic, site: Site, framework: str) -> str:
    main = _output_source(topic, site)
    if main is None:
        source = topic.sides[framework]
        return fence(source.text, "python", title=source.relative, line_numbers=True)
    return fragments.render_side(topic, main, framework) + _stale_output_note(topic, main)


def render_speedup(topic: Topic, site: Site, baseline: Variant, variant: Variant) -> str:
    """One variant against another within each framework, per machine (generated, never
    typed: the verdict is this build's)."""
    def block(machine: BuildResults) -> str:
        env = machine.data["environment"]
        return fragments.render_speedup(topic, machine, baseline, variant,
                                        env.get("significance_level", 0.05),
                                        env.get("min_speedup", 1.05))
    if len(site.machines) == 1:
        return block(site.primary) if site.primary.topic(topic.name) else \
            _absent(topic, site.primary, site.frozen)
    return _per_machine(topic, site, block)


def render_summary_chart(site: Site, page_uri: str) -> str:
    """The forest plot of the first machine's headline comparisons (this build's, or frozen,
    the first stored machine's)."""
    charts = site.machines[0].charts.get(SUMMARY, []) if site.machines else []
    if not charts:
        return "*No comparison was measured on both sides yet, so there is nothing to plot.*\n"
    level = 1 - site.machines[0].data["environment"]["significance_level"]
    caption = ("JAX's time over PyTorch's at each topic's headline size (log scale), with the "
               f"{level * 100:.0f}% confidence interval; left of 1 JAX took less time, right of "
               "1 PyTorch did; a hollow point is level or inconclusive.")
    return fragments.chart_figure(charts[0], page_uri,
                                  "The same numbers are in the table below.", caption)


def render_comparison_table(site: Site, page_uri: str) -> str:
    """Measured rows: per topic and machine, which side is faster at the headline size."""
    machines = site.machines
    header = ["Topic", "Question", *(m.label if len(machines) > 1 else "Result"
                                     for m in machines), "Outputs"]
    lines = ["| " + " | ".join(table_cell(h) for h in header) + " |",
             "|" + "|".join("---" for _ in header) + "|"]
    for topic in site.topics:
        cells = []
        for machine in machines:
            if machine.topic(topic.name) is None:
                cells.append("not measured on this machine")
                continue
            cell = fragments.comparison_cell(topic, machine)
            if topic.name in machine.stale:
                cell = (f"*stale, measured {format_timestamp(machine.stale[topic.name])}:* "
                        + cell)
            cells.append(cell)
        holders = site.holders(topic.name)
        outputs = "; ".join(
            fragments.parity_word(topic, m) + (f" ({m.label})" if len(holders) > 1 else "")
            for m in holders) or MISSING
        link = f"[{table_cell(topic.title)}]({topic_link(topic.name, page_uri)})"
        lines.append(f"| {link} | {table_cell(topic.question)} | {' | '.join(cells)} | {outputs} |")
    return fragments.search_excluded("\n".join(lines))


def render_environment(site: Site) -> str:
    if not site.machines:
        return "*No results: nothing was measured and nothing is stored under results/.*\n"
    if len(site.machines) == 1:
        return fragments.render_environment(site.primary)
    parts = []
    for machine in site.machines:
        parts.append(f"## {machine.label}\n\nFrom {machine.origin}.\n")
        parts.append(fragments.render_environment(machine, heading="###"))
    return "\n".join(parts)


def render_changes(site: Site, page_uri: str) -> str:
    """Per machine: what became significantly faster or slower between its last two refreshes,
    and which versions changed between them."""
    if not site.changes:
        return ("*No machine has two stored refreshes yet: each `save` adds one under "
                "`results/<machine>/`.*\n")
    parts = []
    for change in site.changes:
        before, after = change["before"], change["after"]
        parts.append(f"## {change['machine_name']}\n")
        parts.append(f"From {format_timestamp(before['measured_at'])} ({before['file']}) to "
                     f"{format_timestamp(after['measured_at'])} ({after['file']}).\n")
        versions = change["versions"]
        parts.append("Versions that changed: " + (", ".join(f"`{v}`" for v in versions)
                                                 if versions else "none") + ".\n")
        moved = [r for r in change["rows"] if r["change"] != "same"]
        if moved:
            table = ["| Topic | Framework | Variant | Size | Before | After | Change |",
                     "|---|---|---|---:|---:|---:|---|"]
            for row in moved:
                word = "faster" if row["change"] == "faster" else "**slower**"
                link = f"[{row['topic']}]({topic_link(row['topic'], page_uri)})"
                table.append(f"| {link} | {FRAMEWORK_LABELS[row['framework']]} | "
                             f"{row['variant']} | {row['size']} | "
                             f"{format_seconds(row['before_s'])} | "
                             f"{format_seconds(row['after_s'])} | "
                             f"{row['ratio']:.2f}× time, {word} (p = {row['p_value']:.2g}) |")
            parts.append(fragments.search_excluded("\n".join(table)))
        same = len(change["rows"]) - len(moved)
        parts.append(f"{same} other row(s) did not change significantly.\n")
        unpaired = change["only_before"] + change["only_after"]
        if unpaired:
            parts.append(fragments.search_excluded(
                "Not compared (present in only one refresh): " + ", ".join(
                    escape_markdown(f"{t} {FRAMEWORK_LABELS.get(f, f)} {v} {s}")
                    for t, f, v, s in unpaired) + "."))
    return "\n".join(parts)

