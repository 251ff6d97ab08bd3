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
                        "site_ratio": None}]}
    text = render_validation([report])
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
