"""Charts of the measured results, drawn with matplotlib as SVG files.

Why matplotlib: it is the most widely used and best maintained plotting library in Python, its
SVG output needs no JavaScript at page load (the site stays offline-capable and fast), and text
stays text (`svg.fonttype = none`), so it is sharp at any size. Axes and labels are drawn in
sentinel colours, then each chart is written twice, themed for Material's light and dark
palettes; the page shows the one that matches (Material's `#only-light` / `#only-dark`).
Files rather than inline SVG keep the pages small: the browser fetches a chart when it is needed
and MkDocs does not parse tens of kilobytes of SVG per page on every build.

Every point comes from the rows of results.json: median and quartiles per size. Drawing is
cached by the hash of the plotted numbers, so a warm rebuild never imports matplotlib. When a
build misses several drawings (a cold build, another machine's results file added), it draws
them side by side, one process per core: that happens after the measurements, when nothing is
being timed, and each drawing is the same byte for byte as one drawn alone.
"""

from __future__ import annotations

import hashlib
import io
import json
import multiprocessing
import re
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from build_hooks import FRAMEWORK_LABELS, FRAMEWORKS
from build_hooks.assemble.model import index_rows
from build_hooks.core import host
from build_hooks.core.atomic import write_atomically
from build_hooks.core.formatting import finite_number, format_seconds
from build_hooks.render.fragments import CHART_SIZE, variant_title
from build_hooks.spec.topics import Topic

if TYPE_CHECKING:  # matplotlib is imported only to draw (a warm rebuild never needs it)
    from matplotlib.typing import RcKeyType

# Any change to this module redraws every chart: its source is part of each chart's cache key.
DRAWING_CODE = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]
FOREGROUND = "#010203"  # sentinels, replaced by CSS variables after drawing
GRID = "#040506"
FONT = "ComparisonChartFont"
COLORS = {"jax": "#3b78e7", "pytorch": "#e8590c"}  # readable on white and on Material's slate
LINE_STYLES = ["-", "--", ":", "-."]
MARKERS = ["o", "s", "^", "D"]
PARALLEL_FROM = 6
"""Missing drawings from which a build draws them in processes of their own: below it, starting
the processes (each imports matplotlib) costs more than it saves."""


@dataclass(frozen=True)
class Chart:
    kind: str
    """time (median against size), gflops (throughput against size), first_call, or forest
    (the home page's summary: every topic's headline ratio with its interval)."""
    title: str
    description: str
    """A text alternative: what the chart shows, in words and numbers."""
    svg: str
    """The drawing with sentinel colours; `themed()` gives the files the site serves."""
    name: str
    """File stem under charts/ in the site, unique per drawing (it holds the numbers' hash)."""
    size: tuple[int, int] = CHART_SIZE
    """Width and height in CSS pixels (the page reserves this box before the file loads)."""

    def themed(self, scheme: str) -> str:
        """The SVG for Material's `light` or `dark` palette."""
        colors = THEMES[scheme]
        return (self.svg.replace(FOREGROUND, colors["foreground"])
                .replace(GRID, colors["grid"]))

    def path(self, scheme: str) -> str:
        return f"charts/{self.name}-{scheme}.svg"


# Material's default text colours of each palette, and a faint grid.
THEMES = {
    "light": {"foreground": "#1f1f1f", "grid": "#e6e6e6"},
    "dark": {"foreground": "#e2e4e9", "grid": "#3a3f4b"},
}


def _number(value: Any) -> float | None:
    """A number that can be drawn on a log scale: finite and above 0."""
    number = finite_number(value)
    return number if number else None


def _series(topic: Topic, rows: list[dict[str, Any]], field: str) -> list[dict[str, Any]]:
    """One series per (framework, variant) with the points that have the field measured."""
    by_key = index_rows(rows)
    series = []
    for framework in FRAMEWORKS:
        for index, variant in enumerate(topic.variants):
            points = []
            for size in topic.sizes:
                row = by_key.get((framework, variant.name, size))
                if not row or row.get("status") != "ok":
                    continue
                value = _number(row.get(field))
                if value is None:
                    continue
                point = {"size": size, "value": value}
                if field == "median_s":
                    low, high = _number(row.get("q25_s")), _number(row.get("q75_s"))
                    if low is not None and high is not None:
                        point.update(low=low, high=high)
                points.append(point)
            if points:
                series.append({"framework": framework, "variant": variant.name,
                               "label": f"{FRAMEWORK_LABELS[framework]} · {variant.label}",
                               "style": index, "points": points})
    return series


def _describe_sweep(topic: Topic, series: list[dict[str, Any]], what: str,
                    fmt: Callable[[float], str]) -> str:
    parts = []
    for line in series:
        first, last = line["points"][0], line["points"][-1]
        if first is last:
            parts.append(f"{line['label']}: {fmt(first['value'])} at {topic.size_name}="
                         f"{first['size']}")
        else:
            parts.append(f"{line['label']}: from {fmt(first['value'])} at {topic.size_name}="
                         f"{first['size']} to {fmt(last['value'])} at {topic.size_name}="
                         f"{last['size']}")
    return f"{what} against {topic.size_name}. " + "; ".join(parts) + "."


def chart_specs(topic: Topic, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What to draw for a topic: plain data, hashed for the cache and passed to the drawing."""
    specs = []
    if len(topic.sizes) > 1:
        series = _series(topic, rows, "median_s")
        if any(len(line["points"]) > 1 for line in series):
            specs.append({
                "kind": "time", "title": f"Median time per call against {topic.size_name}",
                "xlabel": topic.size_name, "ylabel": "time per call", "series": series,
                "description": _describe_sweep(
                    topic, series, "Median time per call (bars: interquartile range)",
                    format_seconds)})
        if topic.flops is not None:
            series = _series(topic, rows, "gflops")
            if any(len(line["points"]) > 1 for line in series):
                specs.append({
                    "kind": "gflops", "title": f"Achieved GFLOP/s against {topic.size_name}",
                    "xlabel": topic.size_name, "ylabel": "GFLOP/s", "series": series,
                    "description": _describe_sweep(topic, series, "Achieved GFLOP/s",
                                                   lambda v: f"{v:.3g} GFLOP/s")})
    if topic.compile_sweep and len(topic.sizes) > 1:
        compiled_only = [line for line in _series(topic, rows, "first_call_s")
                         if topic.variant(line["variant"]) is not None and
                         topic.variant(line["variant"]).compiled]  # type: ignore[union-attr]
        if any(len(line["points"]) > 1 for line in compiled_only):
            specs.append({
                "kind": "compile_sweep",
                "title": f"First call (with compilation) against {topic.size_name}",
                "xlabel": topic.size_name, "ylabel": "first call", "series": compiled_only,
                "description": _describe_sweep(topic, compiled_only,
                                               "First-call time, compilation included",
                                               format_seconds)})
    series_spec = _series_spec(topic, rows)
    if series_spec is not None:
        specs.append(series_spec)
    compiled = [v for v in topic.variants if v.compiled]
    if compiled:
        by_key = index_rows(rows)
        bars: list[dict[str, Any]] = []
        for variant in compiled:
            for framework in FRAMEWORKS:
                row = by_key.get((framework, variant.name, topic.headline_size), {})
                first, median = _number(row.get("first_call_s")), _number(row.get("median_s"))
                if row.get("status") == "ok" and first is not None and median is not None:
                    bars.append({"label": f"{FRAMEWORK_LABELS[framework]} · {variant.label}",
                                 "framework": framework, "first": first, "median": median})
        if bars:
            text = "; ".join(f"{b['label']}: first call {format_seconds(b['first'])}, then "
                             f"{format_seconds(b['median'])} per call" for b in bars)
            specs.append({
                "kind": "first_call",
                "title": f"First call (with compilation) against steady state, "
                         f"{topic.size_name}={topic.headline_size}",
                "ylabel": "time (log scale)", "bars": bars,
                "description": f"First call against steady-state median at "
                               f"{topic.size_name}={topic.headline_size}. {text}."})
    return specs


def _series_spec(topic: Topic, rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The topic's `[series]` (e.g. a loss curve): each side's values on one chart."""
    if topic.series is None:
        return None
    by_key = index_rows(rows)
    lines, said = [], []
    for index, framework in enumerate(FRAMEWORKS):
        row = by_key.get((framework, topic.series.variant, topic.display_size), {})
        values = row.get("series")
        if row.get("status") != "ok" or not isinstance(values, list) or not values:
            continue
        points = [{"size": step, "value": value} for step, value in enumerate(values, 1)
                  if _finite(value)]
        if not points:
            continue
        lines.append({"framework": framework, "variant": topic.series.variant,
                      "label": FRAMEWORK_LABELS[framework], "style": index, "points": points})
        said.append(f"{FRAMEWORK_LABELS[framework]}: {len(values)} values, from "
                    f"{points[0]['value']:.4g} to {points[-1]['value']:.4g}")
    if not lines:
        return None
    return {"kind": "series", "title": topic.series.title, "xlabel": topic.series.x_label,
            "ylabel": topic.series.y_label, "series": lines,
            "description": f"{topic.series.title} ({topic.series.y_label} against "
                           f"{topic.series.x_label}, {topic.size_name}={topic.display_size}). "
                           + "; ".join(said) + "."}


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and \
        value == value and abs(value) != float("inf")


SUMMARY = "(summary)"
"""The key of the summary chart among a machine's charts (no topic can be named so)."""
FOREST_ROW_PX = 26


def forest_spec(topics: list[Topic], comparisons: list[dict[str, Any]],
                min_speedup: float, confidence: float = 0.95) -> dict[str, Any] | None:
    """One line per topic and variant at the topic's headline size: the ratio of JAX's time to
    PyTorch's on a log scale with its confidence interval. Comparisons without a verdict
    (outputs differ, not measured on both sides) and unbounded intervals are left out."""
    found = {(c["topic"], c["variant"], c["size"]): c for c in comparisons}
    lines = []
    for topic in topics:
        for variant in topic.variants:
            entry = found.get((topic.name, variant.name, topic.headline_size))
            if not entry or entry.get("outcome") in (None, "outputs_differ"):
                continue
            ratio, low, high = (_number(entry.get(k))
                                for k in ("ratio", "ratio_ci_low", "ratio_ci_high"))
            if ratio is None or low is None or high is None:
                continue
            if entry.get("leader") == "jax":  # the other side's time over JAX's: invert
                ratio, low, high = 1 / ratio, 1 / high, 1 / low
            lines.append({"label": f"{topic.title} · {variant_title(topic, variant)} "
                                   f"({topic.size_name}={topic.headline_size})",
                          "short": f"{topic.name} · {variant.name}",
                          "value": ratio, "low": low, "high": high,
                          "outcome": entry["outcome"]})
    if not lines:
        return None
    level = f"{confidence * 100:.0f}%"
    text = "; ".join(f"{line['label']}: JAX takes {line['value']:.3g} times PyTorch's time "
                     f"({level} CI {line['low']:.3g} to {line['high']:.3g}), {line['outcome']}"
                     for line in lines)
    return {"kind": "forest", "lines": lines, "min_speedup": min_speedup,
            "size": [CHART_SIZE[0], 90 + FOREST_ROW_PX * len(lines)],
            "title": "Every topic's headline comparison: JAX's time over PyTorch's",
            "description": "Ratio of JAX's typical time to PyTorch's at each topic's headline "
                           f"size, log scale, with its {level} confidence interval; left of 1 JAX "
                           "is quicker, right of 1 PyTorch is; a hollow point is level or "
                           f"inconclusive. {text}."}


def summary_wanted(topics: list[Topic], data: dict[str, Any], machine_name: str,
                   min_speedup: float, confidence: float = 0.95) -> list[Wanted]:
    """The forest plot's spec, prefix and owner (none when nothing was compared)."""
    spec = forest_spec(topics, data["comparisons"], min_speedup, confidence)
    prefix = f"{machine_name}-summary" if machine_name else "summary"
    return [(spec, prefix, "summary")] if spec else []


def _style() -> dict[RcKeyType, Any]:
    return {
        "svg.fonttype": "none", "font.family": FONT, "font.size": 10,
        "text.color": FOREGROUND, "axes.labelcolor": FOREGROUND, "axes.edgecolor": FOREGROUND,
        "xtick.color": FOREGROUND, "ytick.color": FOREGROUND, "grid.color": GRID,
        "axes.facecolor": "none", "figure.facecolor": "none", "savefig.transparent": True,
        "legend.frameon": False, "axes.spines.top": False, "axes.spines.right": False,
    }


def _draw(spec: dict[str, Any], salt: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import logging

    import matplotlib.pyplot as plt

    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)  # no such font: fine
    width, height = spec.get("size", CHART_SIZE)
    with matplotlib.rc_context({**_style(), "svg.hashsalt": salt}):
        figure, axes = plt.subplots(figsize=(width / 100, height / 100))
        if spec["kind"] == "forest":
            _draw_forest(axes, spec)
        elif spec["kind"] == "first_call":
            bars = spec["bars"]
            positions = range(len(bars))
            width = 0.38
            axes.bar([p - width / 2 for p in positions], [b["first"] for b in bars], width,
                     label="first call", color=[COLORS[b["framework"]] for b in bars])
            axes.bar([p + width / 2 for p in positions], [b["median"] for b in bars], width,
                     label="steady state (median)", color=[COLORS[b["framework"]] for b in bars],
                     alpha=0.45, hatch="//", edgecolor=FOREGROUND, linewidth=0.5)
            axes.set_xticks(list(positions), [b["label"] for b in bars])
            axes.set_yscale("log")
        elif spec["kind"] == "series":
            for line in spec["series"]:
                points = line["points"]
                axes.plot([p["size"] for p in points], [p["value"] for p in points],
                          label=line["label"], color=COLORS[line["framework"]],
                          linestyle=LINE_STYLES[line["style"] % 4],
                          marker=MARKERS[line["style"] % 4] if len(points) <= 40 else None,
                          markersize=3, linewidth=1.5)
            axes.set_xlabel(spec.get("xlabel", ""))
        else:
            values = [p["value"] for line in spec["series"] for p in line["points"]]
            sizes = [p["size"] for line in spec["series"] for p in line["points"]]
            for line in spec["series"]:
                points = line["points"]
                low = [p["value"] - p.get("low", p["value"]) for p in points]
                high = [p.get("high", p["value"]) - p["value"] for p in points]
                axes.errorbar([p["size"] for p in points], [p["value"] for p in points],
                              yerr=[low, high] if spec["kind"] == "time" else None,
                              label=line["label"], color=COLORS[line["framework"]],
                              linestyle=LINE_STYLES[line["style"] % 4],
                              marker=MARKERS[line["style"] % 4], markersize=4, capsize=3,
                              linewidth=1.5)
            if max(sizes) / min(sizes) >= 8:
                axes.set_xscale("log")
                axes.minorticks_off()
                measured = sorted(set(sizes))  # ticks at the sizes that were measured
                axes.set_xticks(measured, [f"{size:,}" for size in measured])
            if max(values) / min(values) >= 20:
                axes.set_yscale("log")
            axes.set_xlabel(spec.get("xlabel", ""))
        if spec["kind"] in ("time", "first_call", "compile_sweep"):
            from matplotlib.ticker import FuncFormatter

            axes.yaxis.set_major_formatter(FuncFormatter(lambda v, _: format_seconds(v)))
        if spec["kind"] != "forest":
            axes.set_ylabel(spec["ylabel"])
            axes.grid(True, which="major", linewidth=0.5)
            axes.legend(fontsize=9)
        if spec["kind"] == "forest":  # room on the left for the labels, whatever their length
            figure.subplots_adjust(left=0.36, right=0.97, top=1 - 30 / height,
                                   bottom=55 / height)
        else:
            figure.tight_layout()
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
        plt.close(figure)
    return buffer.getvalue()


def _draw_forest(axes: Any, spec: dict[str, Any]) -> None:
    lines = spec["lines"]
    rows = range(len(lines))[::-1]  # the first topic at the top
    for row, line in zip(rows, lines, strict=True):
        color = COLORS["pytorch"] if line["value"] > 1 else COLORS["jax"]
        # A filled point is a verdict ("faster"); a hollow one is level or inconclusive.
        axes.errorbar([line["value"]], [row], xerr=[[line["value"] - line["low"]],
                                                    [line["high"] - line["value"]]],
                      fmt="o", color=color, markersize=5, capsize=3, linewidth=1.5,
                      markerfacecolor=color if line["outcome"] == "faster" else "none")
    threshold = spec["min_speedup"]
    axes.axvline(1.0, color=FOREGROUND, linewidth=0.8)
    for edge in (threshold, 1 / threshold):
        axes.axvline(edge, color=FOREGROUND, linewidth=0.6, linestyle=":")
    axes.set_xscale("log")
    values = [v for line in lines for v in (line["low"], line["high"])]
    span = max(max(values), 1 / min(values), 2.0) * 1.3
    axes.set_xlim(1 / span, span)
    from matplotlib.ticker import FuncFormatter

    axes.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}×"))
    axes.set_yticks(list(rows), [line["short"] for line in lines], fontsize=8)
    axes.set_ylim(-0.7, len(lines) - 0.3)
    axes.set_xlabel("JAX time / PyTorch time (log scale)")
    for x, text, align in ((0.0, "← JAX quicker", "left"), (1.0, "PyTorch quicker →", "right")):
        axes.text(x, 1.0, text, transform=axes.transAxes, ha=align, va="bottom", fontsize=9)
    axes.grid(True, axis="x", which="major", linewidth=0.5)


def _adapt_svg(svg: str, title: str, description: str) -> str:
    """matplotlib's SVG as a standalone, labelled file in the page's font stack."""
    from html import escape

    svg = re.sub(r"<!DOCTYPE[^>]*>|<!--.*?-->", "", svg, flags=re.S)
    svg = re.sub(rf"'?{FONT}'?", "-apple-system, BlinkMacSystemFont, 'Segoe UI', Helvetica, "
                 "Arial, sans-serif", svg)
    svg = re.sub(r"(<svg [^>]*>)", rf"\1<title>{escape(title)}</title>"
                 rf"<desc>{escape(description)}</desc>", svg, count=1)
    return "\n".join(line for line in svg.splitlines() if line.strip()) + "\n"


Wanted = tuple[dict[str, Any], str, str]
"""A chart a page needs: its spec, its file prefix and its owner (a topic, or the summary)."""


def topic_wanted(topic: Topic, rows: list[dict[str, Any]], machine_name: str = ""
                 ) -> list[Wanted]:
    """The topic's charts (for `draw_charts`), with its own prefix and owner."""
    prefix = f"{machine_name}-{topic.name}" if machine_name else topic.name
    return [(spec, prefix, topic.name) for spec in chart_specs(topic, rows)]


def draw_charts(wanted: list[Wanted], cache_dir: Path) -> list[Chart]:
    """The charts of `wanted`, in order: each read from the cache, or drawn when no drawing
    of the same numbers is cached (side by side when PARALLEL_FROM or more are missing)."""
    paths = []
    for spec, prefix, owner in wanted:
        key_source = json.dumps({"spec": spec, "code": DRAWING_CODE, "topic": owner},
                                sort_keys=True)
        key = hashlib.sha256(key_source.encode()).hexdigest()[:20]
        paths.append((key, cache_dir / "charts" / f"{prefix}-{spec['kind']}-{key}.svg"))
    svgs: dict[int, str] = {}
    for index, (_, path) in enumerate(paths):
        try:
            svgs[index] = path.read_text(encoding="utf-8")
        except OSError:
            pass
    missing = [index for index in range(len(wanted)) if index not in svgs]
    drawn = _draw_all([(wanted[index][0], paths[index][0]) for index in missing])
    for index, svg in zip(missing, drawn, strict=True):
        (spec, prefix, _), (_, path) = wanted[index], paths[index]
        for stale in path.parent.glob(f"{prefix}-{spec['kind']}-*.svg"):
            stale.unlink(missing_ok=True)  # drawings of numbers that no longer exist
        write_atomically(path, svg)
        svgs[index] = svg
    charts = []
    for index, (spec, _, _) in enumerate(wanted):
        width, height = spec.get("size", CHART_SIZE)
        charts.append(Chart(spec["kind"], spec["title"], spec["description"], svgs[index],
                            name=paths[index][1].stem, size=(width, height)))
    return charts


def _drawing(item: tuple[dict[str, Any], str]) -> str:
    spec, key = item
    return _adapt_svg(_draw(spec, salt=key), spec["title"], spec["description"])


def _draw_all(items: list[tuple[dict[str, Any], str]]) -> list[str]:
    """The SVG of each (spec, key): in this process when there are few, else in one process
    per core (spawned: the MkDocs process may run threads, which forking does not copy)."""
    cores = host.schedulable_cores()
    if len(items) >= PARALLEL_FROM and cores > 1:
        try:
            with ProcessPoolExecutor(min(cores, len(items)),
                                     mp_context=multiprocessing.get_context("spawn")) as pool:
                return list(pool.map(_drawing, items))
        except (OSError, BrokenProcessPool):
            pass  # no processes to be had here: draw them in this one
    return [_drawing(item) for item in items]
