"""The pieces of `make bench`: its site copies, its comparison configs, its serve timing and
its split of a cold build (the timing loops themselves are not run here)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from build_hooks.tools import bench
from build_hooks.tools.cold_split import cold_split, format_split
from build_hooks.tools.serve_timing import ServeSession, measured_topics
from build_hooks.tools.site_copies import copy_project, load_config_file

from .conftest import QUIET, make_site


@pytest.fixture(scope="module")
def built_site(tmp_path_factory):
    """A fixture site with two topics, built once (its cache filled)."""
    site = make_site(tmp_path_factory.mktemp("bench") / "project", ["double", "returns_scalar"])
    build = site.build()
    assert build.returncode == 0, build.stderr
    return site


@pytest.mark.slow
def test_comparison_configs_build_the_same_pages(built_site, tmp_path):
    config = built_site.root / "mkdocs.yml"
    plain = bench._config_without_hooks(config, tmp_path)
    loaded = load_config_file(plain)
    assert "hooks" not in loaded
    assert {"gen-files": {"scripts": []}} in loaded["plugins"]
    prerendered = bench._prerendered_config(plain, config, tmp_path)
    page = (tmp_path / "prerendered-docs" / "topics" / "double.md").read_text()
    assert "{{ topic" not in page and "## Timings" in page and "jax doubled" in page
    for path in (plain, prerendered):
        done = subprocess.run([sys.executable, "-m", "properdocs", "build", "-q", "-f",
                               str(path), "-d", str(tmp_path / path.stem)], cwd=built_site.root,
                              env={**os.environ, **QUIET}, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr


@pytest.mark.slow
def test_a_copy_with_some_topics_builds_warm_without_touching_the_original(built_site,
                                                                          tmp_path):
    before = {p: p.read_bytes() for p in built_site.root.rglob("*") if p.is_file()
              and "site" not in p.relative_to(built_site.root).parts}
    config = copy_project(built_site.root / "mkdocs.yml", tmp_path / "copy", ["double"])
    copied = load_config_file(config)
    assert all(Path(hook).is_absolute() for hook in copied["hooks"])
    assert sorted(p.name for p in (tmp_path / "copy" / "snippets").iterdir()) == ["double"]
    assert not (tmp_path / "copy" / "docs" / "topics" / "returns_scalar.md").exists()
    env = {**os.environ, **QUIET}
    env.pop("COMPARISON_QUICK", None)
    done = subprocess.run([sys.executable, "-m", "properdocs", "build", "-f", str(config)],
                          cwd=config.parent, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "came from the cache; nothing to run" in done.stderr  # the copy starts warm
    assert "Topic 'returns_scalar'" not in done.stderr
    after = {p: p.read_bytes() for p in before}
    assert after == before
    # A copy of the copy (serve's, in run_bench) keeps the hooks and the filled cache.
    again = copy_project(config, tmp_path / "again")
    assert load_config_file(again)["hooks"] == copied["hooks"]
    cache = tmp_path / "copy" / ".cache"  # the fixture sites keep their cache there
    assert sorted(p.name for p in cache.glob("*.json")) == \
        sorted(p.name for p in (tmp_path / "again" / ".cache").glob("*.json"))
    assert list(cache.glob("double*.json"))
    with pytest.raises(ValueError, match="no topic named nonesuch"):
        copy_project(built_site.root / "mkdocs.yml", tmp_path / "bad", ["nonesuch"])


@pytest.mark.slow
def test_serve_times_a_prose_edit_to_the_reload_message(built_site, tmp_path):
    config = copy_project(built_site.root / "mkdocs.yml", tmp_path / "copy")
    page = config.parent / "docs" / "topics" / "double.md"
    env = {**os.environ, **QUIET}
    with ServeSession(config, env, start_timeout=300) as session:
        seconds, lines = session.time_edit(page, page.read_text() + "\nMore prose.\n",
                                           timeout=300)
    assert 0 < seconds < 300
    assert any("Reloading browsers" in line for line in lines)
    assert measured_topics(lines) == []  # a prose edit measures nothing
    assert session.process is not None and session.process.poll() is not None  # stopped


def test_measured_topics_are_read_from_the_build_log():
    lines = ["INFO - Measuring topic 1/2 'matmul' (no cached result)", "round 1/5",
             "INFO - Measuring topic 2/2 'first_steps' (its files changed)"]
    assert measured_topics(lines) == ["matmul", "first_steps"]


def test_cold_split_adds_up_to_the_wall_time_and_names_topics_over_budget():
    environment = {"framework": {"import_s": 2.0}}  # as results.json describes a row's worker
    rows = [
        {"topic": "a", "framework": "jax", "first_call_s": 3.0, "samples": [0.01, 0.02, 0.03],
         "number": 10, "discarded_blocks": 1, "fresh": None, "environment": environment},
        {"topic": "a", "framework": "pytorch", "first_call_s": 5.0, "samples": [0.1],
         "number": 1, "discarded_blocks": 0, "fresh": None,
         "environment": {"framework": {"import_s": 2.5}}},
        {"topic": "b", "framework": "jax", "first_call_s": 1.0, "samples": [4.0, 4.2],
         "fresh": {"runs": [{"to_first_result_s": 4.0}, {"to_first_result_s": 4.2}]},
         "environment": environment},
        {"topic": "c", "framework": "jax", "first_call_s": 100.0, "samples": [1.0],
         "number": 1, "fresh": None, "environment": environment},  # from the cache
    ]
    topics = [{"topic": "a", "source": "fresh", "seconds": 20.0, "budget_s": 10.0},
              {"topic": "b", "source": "fresh", "seconds": 9.0, "budget_s": 10.0},
              {"topic": "c", "source": "cache", "seconds": 500.0, "budget_s": 10.0}]
    split = cold_split({"topics": topics, "results": rows}, wall_s=40.0)
    assert split["imports_s"] == pytest.approx(4.5)  # each worker's import once
    assert split["compilation_s"] == pytest.approx(8.0)  # the cached topic is not counted
    assert split["timed_measurement_s"] == pytest.approx(10 * (0.06 + 0.02) + 0.1)
    assert split["fresh_processes_s"] == pytest.approx(8.2)
    parts = ("imports_s", "compilation_s", "timed_measurement_s", "fresh_processes_s",
             "everything_else_s")
    assert sum(split[p] for p in parts) == pytest.approx(40.0)
    text = "\n".join(format_split(split, "cold"))
    assert "over their budget: a 20 s > 10 s" in text and "b 9" not in text
    quick = "\n".join(format_split({**split, "quick": True}, "cold"))
    assert "budget" not in quick  # budgets are for full measurements
    # The topics' own wall time (a and b, measured here) and the build's work outside them.
    assert split["topics_s"] == pytest.approx(29.0)
    assert split["outside_topics_s"] == pytest.approx(11.0)
    assert split["overlapped"] is False
    assert "measuring the 2 topics" in text and "outside the topics" in text


def test_a_build_that_overlaps_work_has_no_remainder_by_subtraction():
    """Quick mode runs both frameworks' first calls at once and fresh processes two at a
    time: each process's seconds count in full, so the parts may add up to more than the wall
    time, and 'everything else' would come out negative. The split says so instead."""
    rows = [{"topic": "a", "framework": fw, "first_call_s": 30.0, "samples": [0.1],
             "number": 1, "fresh": None, "environment": {"framework": {"import_s": 2.0}}}
            for fw in ("jax", "pytorch")]
    rows.append({"topic": "a", "framework": "pytorch", "first_call_s": 20.0, "samples": [],
                 "fresh": {"runs": [{"to_first_result_s": 20.0}, {"to_first_result_s": 20.0}]},
                 "environment": {"framework": {"import_s": 2.0}}})
    document = {"topics": [{"topic": "a", "source": "fresh", "seconds": 50.0}],
                "results": rows,
                "environment": {"measurement": {"quick": True, "overlap_prepare": True}}}
    split = cold_split(document, wall_s=60.0)
    assert split["overlapped"] is True and split["everything_else_s"] is None
    assert split["quick"] is True  # from the build's own settings, like "overlapped"
    assert split["compilation_s"] + split["fresh_processes_s"] > 60.0  # they overlapped
    assert split["topics_s"] == 50.0 and split["outside_topics_s"] == 10.0
    text = "\n".join(format_split(split, "where it went"))
    assert "everything else" not in text and "counts twice" in text
    assert "outside the topics" in text and "-" not in text.split("outside the topics")[1]


def test_a_full_cold_builds_records_warm_a_copys_cache(tmp_path):
    """The full cold build runs first; its records go where each copy's mkdocs.yml keeps
    its cache, so the warm rebuilds do not measure everything again."""
    records = tmp_path / "cold-cache"
    records.mkdir()
    (records / "matmul.json").write_text('{"record": 1}')
    (records / "machine-probe.json").write_text('{"probe": 1}')
    site = make_site(tmp_path / "site", ["double"], settings={"cache_dir": "elsewhere/cache"})
    config = copy_project(site.root / "mkdocs.yml", tmp_path / "copy")  # as run_bench does
    bench._seed_cache(records, config)
    assert sorted(p.name for p in (tmp_path / "copy" / "elsewhere" / "cache").iterdir()) == \
        ["machine-probe.json", "matmul.json"]


def test_the_report_says_whether_a_cold_build_made_the_kept_compiler_start_up():
    site = {"topics": 1, "html_mb": 1.0, "warm_median_s": 2.0, "warm_rebuild_s": [2.0],
            "without_hooks_median_s": 1.9, "ratio": 1.05, "prerendered_median_s": 3.0,
            "hooks_html_mb": 0.5, "extra_s_per_added_mb": 0.2}
    cold = {"seconds": 100.0, "budget_s": 240.0, "ok": True, "topics_measured": 1,
            "worker_starts": {"JAX": 1, "PyTorch": 1}, "expected_worker_starts": 1}
    report = {"machine": {"cpu": "CPU", "schedulable_cores": 2}, "machine_name": "m",
              "measured_at": "now", "sites": {"all_topics": site, "three_topics": site},
              "warm_target": 1.1, "serve_target": 1.2, "rows": 1, "noisy_rows": 0,
              "comparisons": 1, "inconclusive": 0, "framework_modules_imported_by_mkdocs": [],
              "serve": {"prose_page": "p.md", "prose_edit_median_s": 2.0, "prose_ratio": 1.0,
                        "snippet_topic": "t", "snippet_edit_s": 9.0,
                        "snippet_edit_topics_measured": ["t"]},
              "cold": {"full": {**cold, "compiler_start_made": ["PyTorch"]},
                       "quick": {**cold, "compiler_start_made": []}}}
    text = bench.format_report(report)
    assert "compiler start-up kept on this machine: made by this build (PyTorch)" in text
    assert "compiler start-up kept on this machine: found, made by an earlier build" in text
    assert "met   warm rebuild within 1.10x of the hook-less build" in text


def test_the_bench_finds_docs_and_snippets_where_mkdocs_yml_says(tmp_path):
    from build_hooks.tools.site_copies import project_folders

    config = tmp_path / "mkdocs.yml"
    config.write_text("site_name: x\ndocs_dir: pages\n"
                      "extra:\n  comparison:\n    snippets_dir: code\n")
    assert project_folders(config) == (tmp_path / "pages", tmp_path / "code")
    config.write_text("site_name: x\n")
    assert project_folders(config) == (tmp_path / "docs", tmp_path / "snippets")


def test_folder_names_come_from_mkdocs_yml_with_the_defaults():
    from build_hooks.tools.site_copies import folder_names

    assert folder_names({}) == ("docs", "snippets", ".cache/comparison")
    assert folder_names({"docs_dir": "pages", "extra": {"comparison": {
        "snippets_dir": "code", "cache_dir": "kept"}}}) == ("pages", "code", "kept")
