"""Golden tests of the renderer, and directive expansion, on stored fixture records.

No code runs here: the records in tests/fixtures/records were measured once and frozen.
Regenerate the golden files after an intended change with UPDATE_GOLDEN=1.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from build_hooks.assemble.derive import assemble
from build_hooks.assemble.model import BuildResults, Site
from build_hooks.core.formatting import format_seconds
from build_hooks.render.directives import DirectiveError, PageContext, expand_directives
from build_hooks.render.fragments import fence, render_validation
from build_hooks.spec.settings import Settings
from build_hooks.spec.topics import discover_topics

from .conftest import FIXTURE_TOPICS

FIXTURES = Path(__file__).parent / "fixtures"
GOLDEN = Path(__file__).parent / "golden"
MACHINE = {"cpu": "Test CPU", "cpu_count": 2, "schedulable_cores": 2, "memory_bytes": 2**30,
           "machine": "x86_64", "os": "TestOS", "python": "3.11.7", "gpus": [],
           "nvidia_driver": None, "packages": {"jax": "0.10.2", "torch": "2.13.0+cpu"},
           "variables": {}}


def build_results(tmp_path: Path, names: list[str], edit=None) -> BuildResults:
    for name in names:
        shutil.copytree(FIXTURE_TOPICS / name, tmp_path / "snippets" / name)
    settings = Settings(project_dir=tmp_path, snippets_dir=tmp_path / "snippets",
                        cache_dir=tmp_path / "cache")
    topics = discover_topics(settings.snippets_dir)
    records = {name: json.loads((FIXTURES / "records" / f"{name}.json").read_text())
               for name in names}
    if edit:
        edit(records)
    data = assemble([(t, records[t.name], "cache") for t in topics], MACHINE, "test-machine",
                    settings)
    return BuildResults(topics=topics, data=data, ran=[])


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert path.exists(), f"{path} is missing: run with UPDATE_GOLDEN=1 once"
    assert text == path.read_text()


def expand(results: BuildResults, markdown: str, uri: str = "topics/page.md",
           pages: set[str] | None = None) -> str:
    context = PageContext(uri=uri, pages={"methodology.md", "environment.md"} if pages is None
                          else pages)
    site = results if isinstance(results, Site) else Site(results.topics, [results])
    return expand_directives(markdown, context, lambda: site)


def test_topic_block_matches_golden(tmp_path):
    results = build_results(tmp_path, ["double"])
    check_golden("double_topic.md", expand(results, "{{ topic double }}"))


def test_failed_topic_block_matches_golden(tmp_path):
    results = build_results(tmp_path, ["raises"])
    check_golden("raises_topic.md", expand(results, "{{ topic raises }}"))


def test_comparison_table_and_example_match_golden(tmp_path):
    results = build_results(tmp_path, ["double", "raises"])
    text = expand(results, "# Home\n\n{{ comparison_table }}\n\n{{ example double jax }}\n",
                  uri="index.md")
    check_golden("home.md", text)


def test_numbers_on_the_page_are_the_numbers_in_the_results(tmp_path):
    results = build_results(tmp_path, ["double"])
    page = expand(results, "{{ topic double }}")
    for row in results.rows("double"):
        assert f"| {format_seconds(row['median_s'])} | {format_seconds(row['iqr_s'])} | " \
               f"{row['n']} | {format_seconds(row['first_call_s'])} |" in page


def test_output_with_markup_and_backticks_stays_inside_its_fence(tmp_path):
    hostile = "<script>alert(1)</script>\n```\n# not a heading\n````\n"

    def edit(records):
        for row in records["double"]["rows"]:
            row["stdout"] = hostile

    page = expand(build_results(tmp_path, ["double"], edit), "{{ topic double }}")
    assert "`````text\n" in page  # one backtick longer than the longest run in the output
    block = fence(hostile)
    assert block.startswith("`````text\n") and block.endswith("\n`````\n")


def test_missing_fields_render_as_unknown_not_a_crash(tmp_path):
    def edit(records):
        for row in records["double"]["rows"]:
            row["samples"] = []
            row["first_call_s"] = None

    page = expand(build_results(tmp_path, ["double"], edit), "{{ topic double }}")
    assert "| — | — | — | — |" in page
    assert "not measured on both sides" not in page  # the verdict cell is simply unknown
    first_row = next(line for line in page.splitlines() if line.startswith("| 8 |"))
    assert first_row.rstrip(" |").endswith("—")  # the verdict cell
    assert re.search(r"\| 8 \| JAX( · \*[^|]*\*)? \| — \|", page)


def test_timing_table_names_the_variant_only_when_there_are_several(tmp_path):
    single = expand(build_results(tmp_path / "one", ["double"]), "{{ topic double }}")
    assert "| n | Framework | Median |" in single and "| Variant |" not in single

    def add_variant(records):  # the same rows again, as a second variant
        rows = records["double"]["rows"]
        rows += [{**row, "variant": "again"} for row in rows]

    root = tmp_path / "two"
    shutil.copytree(FIXTURE_TOPICS / "double", root / "snippets" / "double")
    folder = root / "snippets" / "double"
    with open(folder / "topic.toml", "a") as stream:
        stream.write('\n[[variants]]\nname = "again"\nlabel = "twice again"\n')
    for side in ("jax.py", "pytorch.py"):
        with open(folder / side, "a") as stream:
            stream.write("\nagain = double\n")
    settings = Settings(project_dir=root, snippets_dir=root / "snippets", cache_dir=root / "c")
    topics = discover_topics(settings.snippets_dir)
    records = {"double": json.loads((FIXTURES / "records" / "double.json").read_text())}
    add_variant(records)
    data = assemble([(topics[0], records["double"], "cache")], MACHINE, "test-machine", settings)
    several = expand(BuildResults(topics=topics, data=data, ran=[]), "{{ topic double }}")
    assert "| Variant | n | Framework | Median |" in several
    assert "| 2 * x | 8 | JAX" in several and "| twice again | 8 | JAX" in several


def test_links_only_to_pages_that_exist(tmp_path):
    results = build_results(tmp_path, ["double"])
    with_pages = expand(results, "{{ topic double }}")
    without = expand(results, "{{ topic double }}", pages=set())
    assert "[Methodology](../methodology.md)" in with_pages
    assert "methodology.md" not in without


@pytest.mark.parametrize("markdown, message", [
    ("{{ topic }}", "'topic' takes 1 argument(s), got 0"),
    ("{{ topic nope }}", "unknown topic 'nope'. Fix: use one of: double"),
    ("{{ example double rust }}", "unknown framework 'rust'"),
    ("{{ tpoic double }}", "unknown directive 'tpoic'"),
])
def test_bad_directives_name_the_page_and_line(tmp_path, markdown, message):
    results = build_results(tmp_path, ["double"])
    with pytest.raises(DirectiveError) as caught:
        expand(results, f"# Title\n\n{markdown}\n", uri="topics/x.md")
    assert str(caught.value).startswith("docs/topics/x.md, line 3: ")
    assert message in str(caught.value)


def test_directives_in_fences_and_indented_lines_are_left_alone(tmp_path):
    results = build_results(tmp_path, ["double"])
    text = "````md\n{{ topic nope }}\n```\n{{ topic nope }}\n````\n    {{ topic nope }}\n"
    assert expand(results, text) == text


def test_results_are_not_loaded_for_pages_without_directives():
    def fail():
        raise AssertionError("results were loaded")

    context = PageContext(uri="index.md", pages=set())
    assert expand_directives("# Plain page\n", context, fail) == "# Plain page\n"


def test_validation_report_renders_with_its_machine_and_flags_out_of_range():
    report = {"machine_name": "box", "measured_at": "2026-11-25T12:00:00+00:00",
              "harness_version": "1", "machine": MACHINE, "range": [0.8, 1.25],
              "all_in_range": False,
              "frameworks": {"jax": {"version": "0.10.2", "backend": "cpu",
                                     "intra_op_threads": 2}},
              "rows": [{"topic": "double", "framework": "jax", "variant": "double", "size": 8,
                        "harness_median_s": 1e-6, "independent_median_s": 2e-6, "ratio": 0.5,
                        "site_ratio": None, "allocator_ratio": 7.5}]}
    text = render_validation([report])
    assert "| **0.50** | — | **7.50** |" in text  # outside 0.8-1.25: the allocator matters
    assert "Measured 2026-11-25 12:00 UTC on `box`: Test CPU, 2 cores, no GPU" in text
    assert "**not** every ratio within 0.8-1.25" in text
    assert "| **0.50** |" in text
    assert "No validation report" in render_validation([])


def test_quick_builds_are_labelled_on_the_page(tmp_path):
    # The fixture records were measured in quick mode, and say so in their settings.
    quick = build_results(tmp_path / "quick", ["double"])
    page = expand(quick, "{{ topic double }}")
    assert "Quick build" in page and "do not cite them" in page

    def full(records):
        records["double"]["settings"]["measure"] = {
            **records["double"]["settings"]["measure"], "quick": False, "min_samples": 5}

    normal = build_results(tmp_path / "full", ["double"], full)
    page = expand(normal, "{{ topic double }}")
    assert "Quick build" not in page
    assert "only 4 of 5 samples" in page  # judged by the settings it was measured with


def _two_way_results(tmp_path: Path, factors: dict[str, float]) -> BuildResults:
    """The `double` fixture with a second variant, `again`, whose samples are the stored ones
    scaled by `factors[framework]` (so each framework's ratio of the two is known)."""
    folder = tmp_path / "snippets" / "double"
    shutil.copytree(FIXTURE_TOPICS / "double", folder)
    toml = folder / "topic.toml"
    toml.write_text(toml.read_text().replace(
        "[parity]", '[[variants]]\nname = "again"\nlabel = "2 * x, again"\n\n[parity]'))
    for side in ("jax.py", "pytorch.py"):
        (folder / side).write_text((folder / side).read_text() + "\n\nagain = double\n")
    settings = Settings(project_dir=tmp_path, snippets_dir=tmp_path / "snippets",
                        cache_dir=tmp_path / "cache")
    topics = discover_topics(settings.snippets_dir)
    record = json.loads((FIXTURES / "records" / "double.json").read_text())
    for row in list(record["rows"]):
        scaled = [t * factors[row["framework"]] for t in row["samples"] * 3]
        record["rows"].append({**row, "variant": "again", "samples": scaled})
        row["samples"] = row["samples"] * 3
    data = assemble([(topics[0], record, "cache")], MACHINE, "test-machine", settings)
    return BuildResults(topics=topics, data=data, ran=[])


def test_speedup_states_each_frameworks_own_ratio_from_the_samples(tmp_path):
    results = _two_way_results(tmp_path, {"jax": 0.25, "pytorch": 1.0})
    text = expand(results, "{{ speedup double double again }}\n")
    jax_line = next(line for line in text.splitlines() if line.startswith("- **JAX**"))
    torch_line = next(line for line in text.splitlines() if line.startswith("- **PyTorch**"))
    assert "*2 \\* x, again* 4.00× faster" in jax_line and "95% CI" in jax_line
    assert torch_line.startswith("- **PyTorch**: level (1.00×")
    assert "n=16, on test-machine" in text


def test_speedup_names_a_variant_only_one_side_has_or_a_typo(tmp_path):
    results = _two_way_results(tmp_path, {"jax": 1.0, "pytorch": 1.0})
    with pytest.raises(DirectiveError, match="'nope' is not a variant both sides of 'double' "
                                             "define. Fix: use one of: double, again"):
        expand(results, "{{ speedup double double nope }}\n")


PROBE = {"measured_at": "2026-12-02T11:00:00+00:00", "quick": False,
         "frameworks": {fw: {"device_kind": "cpu",
                             "compute": {"rate": rate, "unit": "GFLOP/s", "n": 2048,
                                         "call": "mm"},
                             "memory": {"rate": rate / 10, "unit": "GB/s", "bytes": 2**28,
                                        "call": "mul"}}
                        for fw, rate in (("jax", 40.0), ("pytorch", 50.0))},
         "bounds": {"compute": {"rate": 50.0, "unit": "GFLOP/s", "framework": "pytorch"},
                    "memory": {"rate": 5.0, "unit": "GB/s", "framework": "pytorch"}}}


def _with_work(tmp_path: Path, work: str) -> BuildResults:
    """The `double` fixture declaring `work` (topic.toml lines), assembled with PROBE."""
    folder = tmp_path / "snippets" / "double"
    shutil.copytree(FIXTURE_TOPICS / "double", folder)
    toml = folder / "topic.toml"
    toml.write_text(toml.read_text().replace('flops = "n"\n', work))
    settings = Settings(project_dir=tmp_path, snippets_dir=tmp_path / "snippets",
                        cache_dir=tmp_path / "cache")
    topics = discover_topics(settings.snippets_dir)
    record = json.loads((FIXTURES / "records" / "double.json").read_text())
    data = assemble([(topics[0], record, "cache")], MACHINE, "test-machine", settings, PROBE)
    return BuildResults(topics=topics, data=data, ran=[])


@pytest.mark.parametrize("work, bound", [
    ('flops = "1e3 * n"\n', "compute"),  # 8e3 FLOPs at 50 GFLOP/s: 0.16 us at n=8
    ('flops = "n"\nbytes = "1e3 * n"\n', "memory"),  # 8e3 bytes at 5 GB/s: 1.6 us
    ('flops = "1e3 * n"\nbytes = "1e1 * n"\n', "compute"),  # 0.16 us against 0.016 us
])
def test_share_of_bound_is_the_rooflines_least_time_over_the_median(tmp_path, work, bound):
    results = _with_work(tmp_path, work)
    topic = results.topics[0]
    for row in results.data["results"]:
        flops, moved = topic.flop_count(row["size"]), topic.byte_count(row["size"])
        least = max(flops / 50e9, (moved or 0) / 5e9)
        assert row["bound"] == bound
        assert row["bound_share"] == pytest.approx(least / row["median_s"])
    page = expand(results, "{{ topic double }}")
    assert "| Share of bound |" in page and f"({bound}) |" in page
    largest = [r for r in results.data["results"] if r["size"] == 16]
    best = max(r["bound_share"] for r in largest if r["framework"] == "jax")
    assert f"JAX {best:.0%} (2" in page  # each framework's best at the largest size
    assert "50 GFLOP/s of compute" in page or "5 GB/s of memory bandwidth" in page


def test_no_probe_or_no_declared_work_means_no_share_column(tmp_path):
    results = build_results(tmp_path, ["double"])  # flops, but no probe
    assert all(row["bound_share"] is None for row in results.data["results"])
    assert "Share of bound" not in expand(results, "{{ topic double }}")
    environment = expand(results, "{{ environment }}")
    assert "No machine probe with these results" in environment
    probed = _with_work(tmp_path / "probed", 'flops = "n"\n')
    environment = expand(probed, "{{ environment }}")
    assert "| JAX on cpu | 40 GFLOP/s (n=2048, `mm`) | 4 GB/s (256 MiB, `mul`) |" in environment
    assert "50 GFLOP/s of compute (a float32 matmul of side 2048, PyTorch's the better)" \
        in environment


def _allocator_report(ratios: dict[str, float]) -> dict:
    rows = [{"topic": "double", "framework": "jax", "variant": "double", "size": size,
             "harness_median_s": 1e-6, "independent_median_s": 1e-6, "ratio": 1.0,
             "site_ratio": None, "default_allocator_median_s": ratio * 1e-6,
             "allocator_ratio": ratio, "measured_at": "2026-12-02T11:00:00+00:00"}
            for size, ratio in ratios.items()]
    return {"machine_name": "test-machine", "measured_at": "2026-12-02T11:00:00+00:00",
            "harness_version": "1", "machine": MACHINE, "range": [0.8, 1.25],
            "allocator_range": [0.8, 1.25], "all_in_range": True, "rows": rows}


def test_a_row_the_default_allocator_changes_by_over_25_percent_gets_a_note(tmp_path):
    results = build_results(tmp_path, ["double"])
    folder = tmp_path / "results" / "test-machine"
    folder.mkdir(parents=True)
    from build_hooks.core.jsonfile import write_versioned
    from build_hooks.records.archive import VALIDATION_FORMAT, VALIDATION_SCHEMA

    def page_with(ratios):
        write_versioned(folder / "validation.json", VALIDATION_FORMAT, VALIDATION_SCHEMA,
                        _allocator_report(ratios))
        context = PageContext(uri="topics/double.md", pages={"methodology.md"},
                              project_dir=tmp_path)
        return expand_directives("{{ topic double }}", context,
                                 lambda: Site(results.topics, [results]))

    quiet = page_with({8: 1.2, 16: 0.85})  # within 25% both ways: no note
    assert "With the default memory allocator" not in quiet
    page = page_with({8: 7.5, 16: 1.0})
    assert "With the default memory allocator" in page
    assert "| JAX | double | 8 | 1.00 µs | 7.50 µs | 7.50× |" in page
    assert "| 16 |" not in page.split("With the default memory allocator")[1]
    assert "page-faults them in" in page and "Where the default is faster" not in page
    assert "../methodology.md#the-same-memory-allocator-policy" in page
    faster = page_with({8: 0.5, 16: 1.0})
    assert "Where the default is faster" in faster and "page-faults" not in faster
