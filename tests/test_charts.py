"""Charts: drawn from results.json's numbers only, themable, labelled, cached."""

from __future__ import annotations

import pytest

from build_hooks.assemble.model import BuildResults
from build_hooks.core import host
from build_hooks.render import charts

from .test_render import build_results


def _rows(results: BuildResults, topic: str) -> list[dict]:
    return results.rows(topic)


def test_every_plotted_number_is_a_number_in_the_results(tmp_path):
    results = build_results(tmp_path, ["double"])
    rows = _rows(results, "double")
    specs = charts.chart_specs(results.topics[0], rows)
    assert [spec["kind"] for spec in specs] == ["time", "gflops"]
    by_key = {(r["framework"], r["size"]): r for r in rows}
    for line in specs[0]["series"]:
        for point in line["points"]:
            row = by_key[(line["framework"], point["size"])]
            assert (point["value"], point["low"], point["high"]) == \
                (row["median_s"], row["q25_s"], row["q75_s"])
    for line in specs[1]["series"]:
        for point in line["points"]:
            assert point["value"] == by_key[(line["framework"], point["size"])]["gflops"]


def test_svg_files_are_themed_for_each_palette_and_labelled(tmp_path):
    results = build_results(tmp_path, ["double"])
    drawn = charts.draw_charts(charts.topic_wanted(results.topics[0], _rows(results, "double")),
                                tmp_path / "cache")
    chart = drawn[0]
    assert chart.path("light") == f"charts/{chart.name}-light.svg"
    assert chart.name.startswith("double-time-")
    for scheme, colors in charts.THEMES.items():
        svg = chart.themed(scheme)
        assert "<svg " in svg and svg.rstrip().endswith("</svg>")
        assert "<title>Median time per call against n</title>" in svg and "<desc>" in svg
        assert colors["foreground"] in svg
        assert charts.FOREGROUND not in svg and charts.GRID not in svg
        assert charts.FONT not in svg
    assert chart.themed("light") != chart.themed("dark")


def test_page_shows_the_drawing_for_each_palette_with_a_description(tmp_path):
    results = build_results(tmp_path, ["double"])
    results.charts["double"] = charts.draw_charts(
        charts.topic_wanted(results.topics[0], _rows(results, "double")), tmp_path / "cache")
    from build_hooks.render.fragments import render_charts

    text = render_charts(results.topics[0], results, "topics/double.md")
    name = results.charts["double"][0].name
    assert f"![Median time per call against n](../charts/{name}-light.svg#only-light)" in text
    assert f"(../charts/{name}-dark.svg#only-dark)" in text
    assert '<figure class="comparison-chart" markdown>' in text
    assert "The same numbers are in the table below.</figcaption>" in text


def test_charts_are_drawn_once_then_read_from_the_cache(tmp_path, monkeypatch):
    results = build_results(tmp_path, ["double"])
    rows = _rows(results, "double")
    first = charts.draw_charts(charts.topic_wanted(results.topics[0], rows), tmp_path / "cache")

    def no_drawing(*args, **kwargs):
        raise AssertionError("drew again although the numbers did not change")

    monkeypatch.setattr(charts, "_draw", no_drawing)
    again = charts.draw_charts(charts.topic_wanted(results.topics[0], rows), tmp_path / "cache")
    assert [c.svg for c in again] == [c.svg for c in first]
    rows[0]["median_s"] *= 2  # new numbers: drawn again
    with pytest.raises(AssertionError, match="drew again"):
        charts.draw_charts(charts.topic_wanted(results.topics[0], rows), tmp_path / "cache")


def test_no_chart_without_successful_measurements(tmp_path):
    results = build_results(tmp_path, ["raises"])
    assert charts.chart_specs(results.topics[0], _rows(results, "raises")) == []
    rows = [dict(r, status="error") for r in _rows(build_results(tmp_path / "b", ["double"]),
                                                    "double")]
    topic = build_results(tmp_path / "c", ["double"]).topics[0]
    assert charts.chart_specs(topic, rows) == []


def test_description_states_the_numbers(tmp_path):
    results = build_results(tmp_path, ["double"])
    spec = charts.chart_specs(results.topics[0], _rows(results, "double"))[0]
    jax = next(r for r in _rows(results, "double") if r["framework"] == "jax" and r["size"] == 8)
    from build_hooks.core.formatting import format_seconds

    assert f"JAX · 2 * x: from {format_seconds(jax['median_s'])} at n=8" in spec["description"]


def test_the_forest_plots_each_headline_ratio_with_its_interval_from_the_results(tmp_path):
    results = build_results(tmp_path, ["double"])
    topic = results.topics[0]
    comparisons = results.comparisons("double")
    headline = next(c for c in comparisons if c["size"] == topic.headline_size)
    assert headline["leader"] == "pytorch"  # JAX's time over PyTorch's is the ratio itself
    spec = charts.forest_spec(results.topics, comparisons, 1.05)
    (line,) = spec["lines"]
    assert (line["value"], line["low"], line["high"]) == \
        (headline["ratio"], headline["ratio_ci_low"], headline["ratio_ci_high"])
    assert line["label"] == f"Doubling a vector · 2 * x (n={topic.headline_size})"
    assert f"JAX takes {headline['ratio']:.3g} times PyTorch's time" in spec["description"]
    assert "(95% CI " in spec["description"]
    assert "(90% CI " in charts.forest_spec(results.topics, comparisons, 1.05,
                                            0.90)["description"]
    # JAX in the lead: the point and its interval are inverted, to the left of 1.
    flipped = [{**headline, "leader": "jax"}]
    (left,) = charts.forest_spec(results.topics, flipped, 1.05)["lines"]
    assert left["value"] == pytest.approx(1 / headline["ratio"])
    assert left["low"] == pytest.approx(1 / headline["ratio_ci_high"])
    # No verdict, no point: outputs that differ, or an unbounded interval.
    assert charts.forest_spec(results.topics, [{**headline, "outcome": "outputs_differ"}],
                              1.05) is None
    assert charts.forest_spec(results.topics, [{**headline, "ratio_ci_high": None}],
                              1.05) is None


def test_the_forest_is_drawn_labelled_and_shown_on_the_page(tmp_path):
    results = build_results(tmp_path, ["double"])
    (chart,) = charts.draw_charts(
        charts.summary_wanted(results.topics, results.data, "box", 1.05), tmp_path / "cache")
    assert chart.kind == "forest" and chart.name.startswith("box-summary-forest-")
    assert chart.size[1] == 90 + charts.FOREST_ROW_PX * 1
    svg = chart.themed("light")
    assert "<title>Every topic&#x27;s headline comparison" in svg or \
        "<title>Every topic's headline comparison" in svg
    from build_hooks.render.fragments import chart_figure

    figure = chart_figure(chart, "index.md", "Same numbers below.")
    assert f"(charts/{chart.name}-dark.svg#only-dark)" in figure
    assert f'height="{chart.size[1]}"' in figure


@pytest.mark.skipif(host.schedulable_cores() < 2, reason="needs two cores to draw apart")
def test_many_missing_charts_are_drawn_in_processes_of_their_own_the_same_byte_for_byte(
        tmp_path, monkeypatch):
    results = build_results(tmp_path, ["double"])
    topic, rows = results.topics[0], _rows(results, "double")
    wanted = [want for copy in range(3)
              for want in charts.topic_wanted(topic, rows, machine_name=f"machine{copy}")]
    assert len(wanted) >= charts.PARALLEL_FROM  # a build draws these side by side
    monkeypatch.setattr(charts, "PARALLEL_FROM", len(wanted) + 1)
    alone = charts.draw_charts(wanted, tmp_path / "alone")  # in this process: the reference
    monkeypatch.setattr(charts, "PARALLEL_FROM", 1)
    # Would fail if this process drew: the spawned processes import charts afresh.
    monkeypatch.setattr(charts, "_draw", lambda *a, **k: pytest.fail("drawn in the build"))
    apart = charts.draw_charts(wanted, tmp_path / "apart")
    assert [(c.name, c.svg) for c in apart] == [(c.name, c.svg) for c in alone]
    assert sorted(p.name for p in (tmp_path / "apart" / "charts").iterdir()) == \
        sorted(p.name for p in (tmp_path / "alone" / "charts").iterdir())
