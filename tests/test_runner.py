"""The run step with real workers and real frameworks, on fixture topics (no MkDocs here)."""

from __future__ import annotations

import dataclasses
import os
import shutil
import statistics
import time
from pathlib import Path

import pytest

from build_hooks.pipeline import run_build
from build_hooks.spec.settings import MeasureSettings, Settings

from .conftest import FIXTURE_TOPICS, import_blocker, processes_with

pytestmark = pytest.mark.slow


def settings_for(tmp_path: Path, topics: list[str], **overrides) -> Settings:
    snippets = tmp_path / "snippets"
    for name in topics:
        shutil.copytree(FIXTURE_TOPICS / name, snippets / name)
    # The per-topic timeout also pays for building the compiler start-up when this machine
    # keeps none yet (about 40 s for PyTorch on an idle 2-core machine, more beside the other
    # test process): a fresh clone's first compiled topic must not time out. The test of the
    # timeout sets its own.
    fields = dict(project_dir=tmp_path, snippets_dir=snippets, cache_dir=tmp_path / "cache",
                  measure=MeasureSettings.quick_mode(), timeout_s=300.0)
    fields.update(overrides)
    return Settings(**fields)


def by_key(results) -> dict[tuple[str, str, str, int], dict]:
    return {(r["topic"], r["framework"], r["variant"], r["size"]): r
            for r in results.data["results"]}


def test_good_pair_gives_statistics_output_and_parity(tmp_path):
    messages: list[str] = []
    results = run_build(settings_for(tmp_path, ["double"]), messages.append)
    rows = by_key(results)
    assert set(rows) == {("double", fw, "double", n) for fw in ("jax", "pytorch") for n in (8, 16)}
    for row in rows.values():
        assert row["status"] == "ok"
        assert row["first_call_s"] > 0
        assert len(row["samples"]) == row["n"] >= 2
        assert row["median_s"] == pytest.approx(statistics.median(row["samples"]))
        assert row["q25_s"] <= row["median_s"] <= row["q75_s"]
        assert row["gflops"] == pytest.approx(row["size"] / row["median_s"] / 1e9)
        assert row["environment"]["framework"]["framework"] == row["framework"]
    assert rows[("double", "jax", "double", 8)]["stdout"] == \
        "jax doubled: [0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0]\n"
    assert rows[("double", "pytorch", "double", 16)]["stdout"].startswith("pytorch doubled: [0.0")
    parity = results.data["parity"]["double"]
    assert parity["status"] == "match"
    assert len(parity["checks"]) == 2 and all(c["max_abs_diff"] == 0.0 for c in parity["checks"])
    digests = {s["inputs_digest"] for s in results.data["topics"][0]["setups"]}
    assert len(digests) == 2  # one per size, identical on both sides
    # Progress names the topic and framework; each framework is imported once.
    assert any("double" in m and "JAX" in m for m in messages)
    assert "Worker starts this build: jax 1, pytorch 1" in messages


@pytest.mark.parametrize("settle", [0, 1])
def test_a_turn_after_the_other_framework_starts_with_discarded_blocks(tmp_path, monkeypatch,
                                                                       settle):
    log = tmp_path / "calls.log"
    monkeypatch.setenv("CALLS_LOG", str(log))
    quick = MeasureSettings.quick_mode()
    # One side prepares after the other (quick mode would prepare both at once).
    settings = settings_for(tmp_path, ["double"], measure=dataclasses.replace(
        quick, settle_blocks=settle, overlap_prepare=False))
    for framework in ("jax", "pytorch"):  # every call of the timed function leaves a line
        side = settings.snippets_dir / "double" / f"{framework}.py"
        side.write_text(side.read_text().replace(
            "def double(x):\n", "def double(x):\n    open(__import__('os').environ['CALLS_LOG'], "
            f"'a').write('{framework} ' + str(x.shape[0]) + '\\n')\n"))
    results = run_build(settings, lambda message: None)
    calls = log.read_text().splitlines()
    rows = results.data["results"]
    assert len(rows) == 4
    # Both prepare (JAX first at n=8, PyTorch first at n=16), then the rounds go JAX, PyTorch
    # | PyTorch, JAX. A turn settles when the request before it went to the other framework.
    expected_discarded = {("jax", 8): 2, ("pytorch", 8): 1, ("jax", 16): 1, ("pytorch", 16): 1}
    for row in rows:
        number, kept = row["number"], len(row["samples"])
        assert row["status"] == "ok" and kept == quick.blocks
        assert row["discarded_blocks"] == \
            settle * expected_discarded[(row["framework"], row["size"])]
        calibration = sum(n for n in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000,
                                      10000, 20000, 50000) if n <= number)
        expected = 1 + calibration + number * (kept + row["discarded_blocks"])
        assert calls.count(f"{row['framework']} {row['size']}") == expected


def test_compilers_start_once_per_worker_before_the_first_compiled_topic(tmp_path):
    settings = settings_for(tmp_path, ["double", "raises"])
    shutil.copytree(settings.snippets_dir / "double", settings.snippets_dir / "again")
    for name in ("double", "again"):  # two topics that declare a compiled variant
        toml = settings.snippets_dir / name / "topic.toml"
        toml.write_text(toml.read_text().replace('label = "2 * x"',
                                                 'label = "2 * x"\ncompiled = true'))
    messages: list[str] = []
    results = run_build(settings, messages.append)
    # First: a worker that timed out or crashed is replaced, and its successor warms up again.
    failed = [(r["topic"], r["framework"], r["status"], r.get("error"))
              for r in results.data["results"] if r["topic"] != "raises" and r["status"] != "ok"]
    assert failed == []
    warm_ups = [m for m in messages if "compiler once" in m]
    assert warm_ups == ["Starting the JAX compiler once (before again)",
                        "Starting the PyTorch compiler once (before again)"]
    notes = {entry["topic"]: entry["notes"] for entry in results.data["topics"]}
    assert [n.split(":")[0] for n in notes["again"]] == ["JAX", "PyTorch"]
    assert all("started once before this topic" in n for n in notes["again"])
    assert notes["double"] == [] and notes["raises"] == []  # already warm; compiles nothing


def test_quick_and_full_records_are_kept_apart(tmp_path):
    quick = settings_for(tmp_path, ["double"])
    full = dataclasses.replace(quick, measure=dataclasses.replace(quick.measure, quick=False))
    assert run_build(quick, lambda message: None).ran == ["double"]
    assert run_build(full, lambda message: None).ran == ["double"]
    # Back and forth: each kind of measurement still has its record.
    assert run_build(quick, lambda message: None).ran == []
    assert run_build(full, lambda message: None).ran == []
    assert sorted(p.name for p in quick.cache_dir.glob("double*.json")) == \
        ["double.json", "double.quick.json"]


def test_refresh_runs_everything_again(tmp_path):
    settings = settings_for(tmp_path, ["double"])
    run_build(settings, lambda message: None)
    refreshed = run_build(Settings(**{**settings.__dict__, "refresh": True}), lambda m: None)
    assert refreshed.ran == ["double"]


def test_raising_snippet_is_a_result_with_a_trimmed_traceback(tmp_path):
    results = run_build(settings_for(tmp_path, ["raises", "double"]), lambda message: None)
    rows = by_key(results)
    failed = rows[("raises", "jax", "compute", 4)]
    assert failed["status"] == "error"
    error = failed["error"]
    assert error["type"] == "ValueError"
    assert error["message"] == "the JAX side refuses <b>politely</b>"
    assert error["file"] == "snippets/raises/jax.py" and error["line"] == 9
    # Only the snippet's own frames: the harness's frames are trimmed away.
    assert "build_hooks" not in error["traceback"]
    assert 'in compute' in error["traceback"] and "in helper" in error["traceback"]
    assert failed["stdout"] == "about to fail\n"
    assert rows[("raises", "pytorch", "compute", 4)]["status"] == "ok"
    assert results.data["parity"]["raises"]["status"] == "not_compared"
    # The next topic in the same workers still runs.
    assert rows[("double", "jax", "double", 8)]["status"] == "ok"


def test_hanging_snippet_is_killed_with_its_children_and_reported(tmp_path, monkeypatch):
    marker = f"HANG_MARKER_{os.getpid()}_{time.time_ns()}"
    monkeypatch.setenv("JAX_VS_PYTORCH_TEST_MARKER", marker)
    settings = settings_for(tmp_path, ["hangs", "double"], timeout_s=8.0)
    started = time.monotonic()
    results = run_build(settings, lambda message: None)
    elapsed = time.monotonic() - started
    rows = by_key(results)
    hung = rows[("hangs", "jax", "compute", 4)]
    assert hung["status"] == "timeout"
    assert "killed after 8 s" in hung["error"]["message"]
    entry = next(t for t in results.data["topics"] if t["topic"] == "hangs")
    setup = next(s for s in entry["setups"] if s["framework"] == "jax")
    assert setup["stdout"] == "setting up, then sleeping\n"
    assert rows[("hangs", "pytorch", "compute", 4)]["status"] == "ok"
    assert rows[("double", "jax", "double", 8)]["status"] == "ok"  # worker restarted
    assert elapsed < 60
    assert processes_with(marker) == []  # no worker or child left behind


def test_crashing_snippet_reports_the_exit_and_the_worker_restarts(tmp_path):
    results = run_build(settings_for(tmp_path, ["crashes", "double"]), lambda message: None)
    rows = by_key(results)
    crashed = rows[("crashes", "jax", "compute", 4)]
    assert crashed["status"] == "crashed"
    assert "exited with code 3" in crashed["error"]["message"]
    assert crashed["stdout"] == "goodbye\n"
    assert rows[("double", "jax", "double", 16)]["status"] == "ok"


def test_global_state_changed_by_one_topic_does_not_leak_into_the_next(tmp_path):
    results = run_build(settings_for(tmp_path, ["sets_x64", "checks_x64"]), lambda m: None)
    rows = by_key(results)
    assert rows[("sets_x64", "jax", "compute", 4)]["status"] == "ok"
    setups = {(s["framework"]): s for t in results.data["topics"] if t["topic"] == "checks_x64"
              for s in t["setups"]}
    assert setups["jax"]["stdout"] == \
        "x64: False default float: float32\nmatmul precision: highest\n"
    assert setups["pytorch"]["stdout"] == "default dtype: torch.float32 threads: " \
        f"{len(os.sched_getaffinity(0))}\ngrad enabled: True matmul: highest\n"
    notes = next(t for t in results.data["topics"] if t["topic"] == "sets_x64")["notes"]
    assert any("jax_enable_x64" in note and "jax_default_matmul_precision" in note
               for note in notes)
    assert any("default_dtype" in note and "num_threads" in note and "grad_enabled" in note
               and "matmul_fp32_precision" in note for note in notes)


def test_function_returning_a_python_number_is_timed_but_not_compared(tmp_path):
    results = run_build(settings_for(tmp_path, ["returns_scalar"]), lambda m: None)
    rows = by_key(results)
    for framework in ("jax", "pytorch"):
        row = rows[("returns_scalar", framework, "compute", 4)]
        assert row["status"] == "ok" and row["median_s"] > 0
        assert row["blockable"] is False
    parity = results.data["parity"]["returns_scalar"]
    assert parity["status"] == "nothing"
    assert "nothing to compare" in parity["message"] and "float" in parity["message"]


def test_missing_framework_is_reported_and_the_other_side_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", import_blocker(tmp_path / "blocker", ("jax",)))
    results = run_build(settings_for(tmp_path, ["double"]), lambda m: None)
    rows = by_key(results)
    jax_row = rows[("double", "jax", "double", 8)]
    assert jax_row["status"] == "not_run"
    assert "No module named 'jax'" in jax_row["error"]["message"]
    assert rows[("double", "pytorch", "double", 8)]["status"] == "ok"


def test_everything_a_snippet_writes_is_captured_and_cleaned(tmp_path):
    results = run_build(settings_for(tmp_path, ["prints_everywhere"]), lambda m: None)
    row = by_key(results)[("prints_everywhere", "pytorch", "compute", 4)]
    stdout, stderr = row["stdout"], row["stderr"]
    assert stdout.startswith("module level\nwritten to file descriptor 1 by C-level code\n")
    assert "red text and <b>markup</b>\n" in stdout  # colour codes removed, text kept
    assert "bad bytes: \ufffd\ufffd\n" in stdout
    assert "to stderr\n" in stderr
    assert "UserWarning: a warning from the snippet" in stderr
    assert "INFO:snippet:a log record" in stderr
    assert "\x1b" not in stdout + stderr


def test_huge_output_is_cut_with_a_note(tmp_path):
    settings = settings_for(tmp_path, ["double"], output_limit_bytes=4096)
    side = settings.snippets_dir / "double" / "pytorch.py"
    side.write_text(side.read_text().replace(
        'print("pytorch doubled:", result.tolist())',
        'print("x" * 3_000_000)\n    print("the end")'))
    results = run_build(settings, lambda m: None)
    row = by_key(results)[("double", "pytorch", "double", 8)]
    assert len(row["stdout"]) < 5000
    assert "of output cut here; 2.9 MiB in all" in row["stdout"]
    assert row["stdout"].endswith("the end\n")
