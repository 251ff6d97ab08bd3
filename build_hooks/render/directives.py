"""Expand the site's directives in page Markdown.

A directive is a line of its own, outside code fences:

    {{ topic matmul }}                 the topic's code, output, timings and parity
    {{ example first_steps pytorch }}  one side's code and output (for the article)
    {{ comparison_table }}             the measured rows of the comparison
    {{ summary_chart }}                every topic's headline ratio with its interval
    {{ environment }}                  the machine and frameworks behind the numbers
    {{ validation }}                   the stored `make validate` reports (results/*/)
    {{ execution_report }}             per topic and framework: status, cost, source
    {{ changes }}                      per machine, what changed between its last two refreshes
    {{ speedup per_sample_gradients loop vmapped }}
                                       within each framework, one variant against another

A directive that is unknown, misspelt or names an unknown topic is an error naming the page and
line, never silently left in the page.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from build_hooks import FRAMEWORKS
from build_hooks.assemble.model import Site
from build_hooks.core.jsonfile import read_versioned
from build_hooks.records.archive import VALIDATION_FILE, VALIDATION_FORMAT, VALIDATION_SCHEMA
from build_hooks.render import fragments, sections

DIRECTIVE = re.compile(r"^\{\{\s*(?P<name>\w+)(?P<args>(?:\s+[\w-]+)*)\s*\}\}\s*$")
FENCE = re.compile(r"^\s*(?P<marks>`{3,}|~{3,})")
LINKED_PAGES = ("methodology", "environment")


class DirectiveError(Exception):
    pass


@dataclass
class PageContext:
    uri: str
    """The page's path in docs/, e.g. topics/matmul.md."""
    pages: set[str]
    """Every Markdown page of the site, to link only to pages that exist."""
    shown_topics: set[str] = field(default_factory=set)
    project_dir: Path | None = None
    """Where results/<machine>/validation.json reports are read from."""


def _topic(site: Site, name: str, where: str):
    topic = site.topic(name)
    if topic is None:
        known = ", ".join(t.name for t in site.topics) or "none"
        raise DirectiveError(f"{where}: unknown topic '{name}'. Fix: use one of: {known}")
    return topic


def _expand(name: str, args: list[str], site: Site, context: PageContext,
            where: str) -> str:
    expected: dict[str, tuple[int, str]] = {
        "topic": (1, "{{ topic <name> }}"),
        "example": (2, "{{ example <topic> <jax|pytorch> }}"),
        "comparison_table": (0, "{{ comparison_table }}"),
        "summary_chart": (0, "{{ summary_chart }}"),
        "environment": (0, "{{ environment }}"),
        "validation": (0, "{{ validation }}"),
        "execution_report": (0, "{{ execution_report }}"),
        "changes": (0, "{{ changes }}"),
        "speedup": (3, "{{ speedup <topic> <baseline variant> <variant> }}"),
    }
    if name not in expected:
        raise DirectiveError(f"{where}: unknown directive '{name}'. Fix: use one of "
                             + ", ".join(usage for _, usage in expected.values()))
    count, usage = expected[name]
    if len(args) != count:
        raise DirectiveError(f"{where}: '{name}' takes {count} argument(s), got {len(args)}. "
                             f"Fix: write {usage}")
    if name == "topic":
        topic = _topic(site, args[0], where)
        context.shown_topics.add(topic.name)
        links = {page: fragments.relative_link(f"{page}.md", context.uri)
                 for page in LINKED_PAGES if f"{page}.md" in context.pages}
        reports = {report["machine_name"]: report
                   for report in load_validation_reports(context.project_dir, where)}
        return sections.render_topic(topic, site, links, context.uri, reports)
    if name == "example":
        topic = _topic(site, args[0], where)
        if args[1] not in FRAMEWORKS:
            raise DirectiveError(f"{where}: unknown framework '{args[1]}'. Fix: write jax or "
                                 "pytorch")
        return sections.render_example(topic, site, args[1])
    if name == "comparison_table":
        return sections.render_comparison_table(site, context.uri)
    if name == "summary_chart":
        return sections.render_summary_chart(site, context.uri)
    if name == "execution_report":
        if not site.machines or site.frozen:
            return "*This build ran nothing: every number comes from results/ (frozen).*\n"
        return fragments.render_execution_report(site.primary, context.uri)
    if name == "validation":
        return fragments.render_validation(load_validation_reports(context.project_dir, where))
    if name == "changes":
        return sections.render_changes(site, context.uri)
    if name == "speedup":
        topic = _topic(site, args[0], where)
        chosen = []
        for arg in args[1:]:
            variant = topic.variant(arg)
            if variant is None or variant.sides != FRAMEWORKS:
                both = ", ".join(v.name for v in topic.variants if v.sides == FRAMEWORKS)
                raise DirectiveError(f"{where}: '{arg}' is not a variant both sides of "
                                     f"'{topic.name}' define. Fix: use one of: {both}")
            chosen.append(variant)
        return sections.render_speedup(topic, site, chosen[0], chosen[1])
    return sections.render_environment(site)


def load_validation_reports(project_dir: Path | None, where: str) -> list[dict[str, Any]]:
    """Every results/<machine>/validation.json; an unreadable one is an error naming it."""
    reports = []
    for path in sorted((project_dir or Path(".")).glob(f"results/*/{VALIDATION_FILE}")):
        report, problem = _read_validation(path, path.stat().st_mtime_ns)
        if report is None:
            raise DirectiveError(f"{where}: {path} {problem}. Fix: run `make validate` again "
                                 "on that machine")
        reports.append(report)
    return reports


@functools.lru_cache(maxsize=16)
def _read_validation(path: Path, mtime_ns: int) -> tuple[dict[str, Any] | None, str]:
    """One report, read once per version of the file (every topic page consults it)."""
    return read_versioned(path, VALIDATION_FORMAT, VALIDATION_SCHEMA, "validation report")


def expand_directives(markdown: str, context: PageContext, site: Callable[[], Site]) -> str:
    """Replace every directive line; `site` is called only if the page has one."""
    lines = markdown.split("\n")
    fence: str | None = None
    for number, line in enumerate(lines, start=1):
        match = FENCE.match(line)
        if match:
            marks = match.group("marks")
            if fence is None:
                fence = marks
            elif marks[0] == fence[0] and len(marks) >= len(fence) and \
                    line.strip() == marks:
                fence = None
            continue
        if fence is not None:
            continue
        directive = DIRECTIVE.match(line)
        if directive:
            where = f"docs/{context.uri}, line {number}"
            lines[number - 1] = _expand(directive.group("name"),
                                        directive.group("args").split(), site(),
                                        context, where)
    return "\n".join(lines)
