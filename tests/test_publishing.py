"""Results per machine, frozen builds, several machines side by side, compare and changes."""

from __future__ import annotations

import html
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from build_hooks import HARNESS_VERSION
from build_hooks.pipeline import build_site, from_bundle, run_build
from build_hooks.records.archive import load_history, save_bundle
from build_hooks.run import process
from build_hooks.spec.settings import MeasureSettings, Settings
from build_hooks.spec.topics import discover_topics

from .conftest import FIXTURE_TOPICS, ROOT, import_blocker

FIXTURE_RESULTS = Path(__file__).parent / "fixtures" / "results"
GPU_LABEL = "NVIDIA H100 80GB HBM3 · 2026-11-22"
CPU_LABEL = "Fixture CPU (CPU, 2 cores) · 2026-11-25"


def test_fixture_results_match_this_harness():
    paths = sorted(FIXTURE_RESULTS.glob("*/results-*.json"))
    assert len(paths) == 3
    for path in paths:
        bundle = json.loads(path.read_text())
        assert bundle["harness_version"] == HARNESS_VERSION, \
            f"{path}: regenerate them: .venv/bin/python tests/fixtures/make_results.py"


def frozen_project(site_factory, topics=("double",)):
    site = site_factory(list(topics), settings={"freeze": True},
                        pages={"changes.md": "# Changes\n\n{{ changes }}\n",
                               "environment.md": "# Environment\n\n{{ environment }}\n"})
    shutil.copytree(FIXTURE_RESULTS, site.root / "results")
    return site


def test_frozen_build_starts_no_worker(site_factory, monkeypatch):
    site = frozen_project(site_factory)

    def refuse(*args, **kwargs):
        raise AssertionError("a worker was started in a frozen build")

    monkeypatch.setattr(process.WorkerProcess, "start", refuse)
    settings = Settings(project_dir=site.root, snippets_dir=site.root / "snippets",
                        cache_dir=site.root / ".cache", freeze=True)
    messages: list[str] = []
    built = build_site(settings, messages.append)
    assert [m.data["machine_name"] for m in built.machines] == ["cpu-box", "gpu-box"]
    assert "Frozen build: every number comes from results/; no worker is started" in messages
    # And through MkDocs, with jax and torch made unimportable: nothing needs them.
    blocker = import_blocker(site.root / "blocker", ("jax", "jaxlib", "torch"))
    build = site.build(env={"PYTHONPATH": blocker})
    assert build.returncode == 0, build.stderr
    assert "Starting the" not in build.stderr
    assert not (site.root / ".cache" / "double.quick.json").exists()


def test_two_machines_side_by_side(site_factory):
    site = frozen_project(site_factory)
    build = site.build()
    assert build.returncode == 0, build.stderr
    page = html.unescape(site.html("topics/double"))
    labels = [html.unescape(label) for label in
              __import__("re").findall(r'<label for="__tabbed_\d+_\d+">([^<]+)</label>',
                                       site.html("topics/double"))]
    assert labels.count(CPU_LABEL) == 2 and labels.count(GPU_LABEL) == 2  # timings and parity
    assert "Numbers from 2 machines; choose one." in page
    home = html.unescape(site.html(""))
    assert f"<th>{CPU_LABEL}</th>" in home and f"<th>{GPU_LABEL}</th>" in home
    data = site.results()
    assert data["machine_name"] == "cpu-box" and data["frozen"] is True
    assert [m["machine_name"] for m in data["machines"]] == ["gpu-box"]
    assert {row["machine_name"] for row in data["machines"][0]["results"]} == {"gpu-box"}
    charts = sorted(p.name for p in (site.root / "site" / "charts").iterdir())
    assert any(name.startswith("cpu-box-double-time-") for name in charts)
    assert any(name.startswith("gpu-box-double-time-") for name in charts)
    csv_lines = (site.root / "site" / "results.csv").read_text().splitlines()
    assert {line.split(",")[0] for line in csv_lines[1:]} == {"cpu-box", "gpu-box"}
    environment = html.unescape(site.html("environment"))
    assert f"## {GPU_LABEL}" not in environment and GPU_LABEL in environment
    assert "results/gpu-box/results-20261122T100000.json" in environment


def test_stored_result_of_changed_code_is_marked_stale(site_factory):
    site = frozen_project(site_factory)
    side = site.root / "snippets" / "double" / "jax.py"
    side.write_text(side.read_text() + "\n# a comment changes the sources\n")
    build = site.build()
    assert build.returncode == 0, build.stderr  # stale is shown, not an error
    page = html.unescape(site.html("topics/double"))
    # Once above the timings and once above the parity verdict, for each machine.
    assert page.count("Stale: measured 2026-11-25 10:00 UTC") == 2
    assert page.count("Stale: measured 2026-11-22 10:00 UTC") == 2
    assert "Output of an earlier version" in page  # the printed output is old too
    assert "stale, measured 2026-11-25 10:00 UTC" in html.unescape(site.html(""))
    assert "topic 'double' is stale" in build.stderr


def test_topic_without_a_stored_result_says_so_and_fails_strict(site_factory):
    site = frozen_project(site_factory, topics=("double", "returns_scalar"))
    strict = site.build()
    assert strict.returncode != 0
    assert "topic 'returns_scalar' has no result on this machine" in strict.stderr
    assert site.build(strict=False).returncode == 0
    page = html.unescape(site.html("topics/returns_scalar"))
    assert f"Not measured on {CPU_LABEL}" in page
    assert f"No result for this topic on {CPU_LABEL}" in page
    assert "snippets/returns_scalar/jax.py" in page  # the code is still shown


def test_changes_page_lists_the_significant_change_and_the_versions(site_factory):
    site = frozen_project(site_factory)
    assert site.build().returncode == 0
    changes = html.unescape(site.html("changes"))
    assert "From 2026-11-20 10:00 UTC (results-20261120T100000.json) to 2026-11-25 10:00 UTC" \
        in changes
    assert "jax 0.10.2 -> 0.10.3" in changes
    assert "slower" in changes
    assert "3 other row(s) did not change significantly." in changes
    assert site.results()["changes"][0]["machine_name"] == "cpu-box"
    # Search keeps the versions and the summary, not the table of rows.
    index = json.loads((site.root / "site" / "search" / "search_index.json").read_text())
    text = " ".join(d["text"] for d in index["docs"] if d["location"].startswith("changes/"))
    assert "jax 0.10.2 -&gt; 0.10.3" in text or "jax 0.10.2 -> 0.10.3" in text
    assert "did not change significantly" in text and "slower" not in text
    assert "data-search-exclude" not in changes


def compare(before: Path, after: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "build_hooks", "-f", str(ROOT / "mkdocs.yml"),
                           "compare", str(before), str(after)], cwd=cwd, capture_output=True,
                          text=True)


def test_compare_reports_the_known_change_and_the_known_non_changes(tmp_path):
    cpu = sorted((FIXTURE_RESULTS / "cpu-box").glob("results-*.json"))
    done = compare(cpu[0], cpu[1], tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    slower = [line for line in lines if "SLOWER" in line]
    assert len(slower) == 1 and slower[0].split()[:4] == ["double", "jax", "double", "16"]
    assert " 2.00  SLOWER" in slower[0]
    unchanged = [line for line in lines if line.rstrip().endswith("  -")]
    assert len(unchanged) == 3
    assert "versions changed: jax 0.10.2 -> 0.10.3" in done.stdout
    assert "1 significant change(s) in 4 paired row(s); 0 unpaired" in done.stdout


def test_compare_says_which_rows_it_could_not_pair(tmp_path):
    cpu = sorted((FIXTURE_RESULTS / "cpu-box").glob("results-*.json"))
    other = json.loads(cpu[1].read_text())
    record = other["topics"]["double"]
    record["rows"] = [r for r in record["rows"] if r["size"] != 8]
    other["topics"]["extra"] = {**record, "topic": "extra"}
    path = tmp_path / "results-other.json"
    path.write_text(json.dumps(other))
    done = compare(cpu[0], path, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "could not pair: double jax double 8 (only in the first file)" in done.stdout
    assert "could not pair: extra pytorch double 16 (only in the second file)" in done.stdout
    broken = tmp_path / "results-broken.json"
    broken.write_text("{")
    failed = compare(cpu[0], broken, tmp_path)
    assert failed.returncode == 2 and "is unreadable" in failed.stderr


def test_bad_results_files_are_reported_by_name_and_skipped(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(FIXTURE_RESULTS, project / "results")
    good = project / "results" / "gpu-box" / "results-20261122T100000.json"
    data = json.loads(good.read_text())
    (project / "results" / "gpu-box" / "results-20261123T100000.json").write_text("{ cut")
    (project / "results" / "gpu-box" / "results-20261124T100000.json").write_text(
        json.dumps({**data, "schema_version": 0}))
    (project / "results" / "gpu-box" / "results-20261126T100000.json").write_text(
        json.dumps({**data, "harness_version": "0"}))
    # Same machine, same day as an existing file: disjoint topics merge, overlapping are refused.
    extra = {**data, "measured_at": "2026-11-22T18:00:00+00:00",
             "topics": {"other": {**data["topics"]["double"], "topic": "other"}}}
    (project / "results" / "gpu-box" / "results-20261122T180000.json").write_text(
        json.dumps(extra))
    (project / "results" / "gpu-box" / "results-20261122T190000.json").write_text(
        json.dumps({**data, "measured_at": "2026-11-22T19:00:00+00:00"}))
    messages: list[str] = []
    history = load_history(project, messages.append)
    text = "\n".join(messages)
    assert "Skipping results/gpu-box/results-20261123T100000.json: it is unreadable" in text
    assert "results-20261124T100000.json: it has schema 0" in text
    assert "results-20261126T100000.json: it was measured by harness version 0" in text
    assert ("Skipping results/gpu-box/results-20261122T190000.json: "
            "results/gpu-box/results-20261122T100000.json holds the same machine and day with "
            "the same topic(s) (double); keep one of the two files") in text
    gpu = history["gpu-box"]
    assert len(gpu) == 1 and set(gpu[0].records) == {"double", "other"}
    assert len(history["cpu-box"]) == 2


def test_a_save_right_after_measuring_is_a_file_the_site_reads(tmp_path):
    # `make save` on a cold cache: the records come from the run itself, not from the cache.
    shutil.copytree(FIXTURE_TOPICS / "double", tmp_path / "snippets" / "double")
    settings = Settings(project_dir=tmp_path, snippets_dir=tmp_path / "snippets",
                        cache_dir=tmp_path / "cache", measure=MeasureSettings.quick_mode())
    results = run_build(settings, lambda message: None)
    assert results.ran == ["double"]
    save_bundle(tmp_path, "box", results.data["environment"], {}, results.records,
                results.data["probe"])
    history = load_history(tmp_path, lambda message: pytest.fail(message))
    assert set(history["box"][0].records) == {"double"}
    # The machine probe travels with the results, and a frozen site applies it.
    assert history["box"][0].probe == results.data["probe"] and results.data["probe"]
    frozen = from_bundle(history["box"][0], discover_topics(settings.snippets_dir), settings)
    assert [r["bound_share"] for r in frozen.data["results"]] == \
        [r["bound_share"] for r in results.data["results"]]


def test_save_writes_a_new_file_and_never_overwrites_one(tmp_path, monkeypatch):
    record = json.loads(next((FIXTURE_RESULTS / "cpu-box").glob("*.json")).read_text())
    machine = record["machine"]
    monkeypatch.setattr("build_hooks.core.host.now_iso", lambda: "2026-11-26T08:30:00+00:00")
    path, replaced = save_bundle(tmp_path, "box", machine, record["frameworks"],
                                 record["topics"])
    assert path == tmp_path / "results" / "box" / "results-20261126T083000.json"
    assert replaced == []
    assert json.loads((path.parent / "machine.json").read_text())["cpu"] == "Fixture CPU"
    history = load_history(tmp_path, lambda message: pytest.fail(message))
    assert set(history["box"][0].records) == {"double"}
    before = path.read_text()
    with pytest.raises(FileExistsError, match="exists already"):
        save_bundle(tmp_path, "box", machine, record["frameworks"], {})
    assert path.read_text() == before
    # A later save the same day replaces that day's file, and says which.
    monkeypatch.setattr("build_hooks.core.host.now_iso", lambda: "2026-11-26T17:00:00+00:00")
    newer, replaced = save_bundle(tmp_path, "box", machine, record["frameworks"],
                                  record["topics"])
    assert replaced == [path] and not path.exists() and newer.exists()


def test_validating_some_topics_keeps_the_stored_rows_of_the_others(tmp_path, monkeypatch):
    from build_hooks.core import host
    from build_hooks.core.jsonfile import write_versioned
    from build_hooks.records.archive import (
        VALIDATION_FILE,
        VALIDATION_FORMAT,
        VALIDATION_SCHEMA,
        machine_dir,
    )
    from build_hooks.tools import validate
    from build_hooks.tools.validate import run_validation

    # Fewer and shorter rounds: this test is about which rows the report keeps.
    monkeypatch.setattr(validate, "ROUNDS", 1)
    monkeypatch.setattr(validate, "BLOCKS_PER_ROUND", 1)
    monkeypatch.setattr(validate, "MIN_RUN_TIME", 0.01)
    monkeypatch.setattr(validate, "DEFAULT_ALLOCATOR_ROUNDS", 1)

    for name in ("double", "returns_scalar"):
        shutil.copytree(FIXTURE_TOPICS / name, tmp_path / "snippets" / name)
    settings = Settings(project_dir=tmp_path, snippets_dir=tmp_path / "snippets",
                        cache_dir=tmp_path / "cache", measure=MeasureSettings.quick_mode(),
                        frameworks=("jax",))
    with pytest.raises(ValueError, match="unknown topic.*nope.*double"):
        run_validation(settings, lambda message: None, {"nope"})
    old = {"topic": "returns_scalar", "framework": "jax", "variant": "scalar", "size": 1,
           "harness_median_s": 1e-6, "independent_median_s": 1e-6, "ratio": 1.0,
           "site_median_s": None, "site_ratio": None, "tool": "timeit"}
    path = machine_dir(tmp_path, host.machine_name(host.machine())) / VALIDATION_FILE
    write_versioned(path, VALIDATION_FORMAT, VALIDATION_SCHEMA, {
        "machine_name": "x", "measured_at": "2026-01-01T00:00:00+00:00",
        "harness_version": HARNESS_VERSION, "rows": [old, {**old, "topic": "double"}]})
    report = run_validation(settings, lambda message: None, {"double"})
    rows = report["rows"]
    kept = [row for row in rows if row["topic"] == "returns_scalar"]
    assert kept == [{"measured_at": "2026-01-01T00:00:00+00:00", **old}]
    fresh = [row for row in rows if row["topic"] == "double"]
    assert sorted(row["size"] for row in fresh) == [8, 16]  # the stored double row is replaced
    assert all(row["measured_at"] > "2026" and row["harness_median_s"] > 0 for row in fresh)
    assert json.loads(path.read_text())["rows"] == rows
    # Each row was timed again in a worker with glibc's default allocator settings.
    allocators = report["allocators"]["jax"]
    assert "mmap_threshold" in allocators["site"]
    assert allocators["default"] == "glibc malloc (default settings)"
    for row in fresh:
        assert row["default_allocator_median_s"] > 0
        assert row["allocator_ratio"] == pytest.approx(
            row["default_allocator_median_s"] / row["independent_median_s"])
    assert "default alloc" in validate.format_report(report)
