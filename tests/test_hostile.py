"""Hostile snippets and broken environments, each with a real MkDocs build of a fixture site.

The build must stay up, say what went wrong and where, and never lose or corrupt a result.
(Raising, hanging, bad metadata and bad directives are in test_site_build.py.)
"""

from __future__ import annotations

import html
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from .conftest import QUIET, default_sigint, import_blocker, processes_with

pytestmark = pytest.mark.slow

CRASHES = {
    "exit": ("os._exit(3)", "exited with code 3"),
    "segfault": ("ctypes.string_at(0)", "was killed by SIGSEGV (segmentation fault)"),
    "abort": ("os.abort()", "was killed by SIGABRT (aborted)"),
}


@pytest.mark.parametrize("kind", sorted(CRASHES))
def test_interpreter_crash_is_reported_and_the_worker_restarts(site_factory, kind):
    site = site_factory(["crashes", "double"])
    side = site.root / "snippets" / "crashes" / "jax.py"
    code, expected = CRASHES[kind]
    side.write_text("import ctypes\n" + side.read_text().replace("os._exit(3)", code))
    later = site.root / "snippets" / "double" / "topic.toml"  # runs after the crash
    later.write_text(later.read_text().replace("order = 1", "order = 99"))
    build = site.build(strict=False)
    assert build.returncode == 0, build.stderr
    row = next(r for r in site.rows("crashes") if r["framework"] == "jax")
    assert row["status"] == "crashed"
    assert expected in row["error"]["message"]
    assert row["stdout"] == "goodbye\n"
    page = html.unescape(site.html("topics/crashes"))
    assert f"JAX: crashed: the worker process {expected}" in page
    assert "Starting the JAX worker again" in build.stderr
    assert all(r["status"] == "ok" for r in site.rows("double"))
    assert site.build().returncode != 0  # --strict fails on a crash


def test_hanging_snippet_and_the_processes_it_started_are_killed(site_factory, monkeypatch):
    marker = f"HANG_{os.getpid()}_{time.time_ns()}"
    site = site_factory(["hangs", "double"], settings={"timeout": 6})
    side = site.root / "snippets" / "hangs" / "jax.py"
    side.write_text(side.read_text().replace(
        '    time.sleep(600)',
        '    import subprocess\n    subprocess.Popen(["sleep", "600"])\n    time.sleep(600)'))
    build = site.build(strict=False, env={"JAX_VS_PYTORCH_MARKER": marker})
    assert build.returncode == 0, build.stderr
    assert processes_with(marker) == []
    page = html.unescape(site.html("topics/hangs"))
    assert "timed out: killed after 6 s" in page
    assert all(r["status"] == "ok" for r in site.rows("double"))


def test_memory_exhaustion_is_reported_as_out_of_memory(site_factory):
    site = site_factory(["exhausts_memory"], settings={"memory_limit_mb": 4096})
    started = time.monotonic()
    build = site.build(strict=False)
    assert build.returncode == 0, build.stderr
    assert time.monotonic() - started < 120
    rows = {r["framework"]: r for r in site.rows("exhausts_memory")}
    assert rows["jax"]["status"] == "out_of_memory"
    assert rows["jax"]["error"]["type"] == "MemoryError"
    assert rows["pytorch"]["status"] == "out_of_memory"
    assert "can't allocate memory" in rows["pytorch"]["error"]["message"]
    page = html.unescape(site.html("topics/exhausts_memory"))
    assert "JAX ran out of memory in hoard (MemoryError" in page
    assert "PyTorch ran out of memory in hoard" in page
    env = site.results()["environment"]["frameworks"]["jax"]
    assert env["memory_limit"] == "RLIMIT_AS 4096 MiB"


def test_huge_output_is_cut_on_the_page_and_in_the_data(site_factory):
    site = site_factory(["double"], settings={"output_limit_bytes": 8192})
    side = site.root / "snippets" / "double" / "jax.py"
    side.write_text(side.read_text().replace(
        'print("jax doubled:", result.tolist())',
        'for line in range(200_000):\n        print("line", line, "x" * 50)'))
    build = site.build()
    assert build.returncode == 0, build.stderr
    row = next(r for r in site.rows("double") if r["framework"] == "jax")
    assert len(row["stdout"]) < 9000
    assert re.search(r"\[\.\.\. 1[0-9]\.\d MiB of output cut here; 1[0-9]\.\d MiB in all \.\.\.\]",
                     row["stdout"])
    assert row["stdout"].endswith("line 199999 " + "x" * 50 + "\n")
    page = html.unescape(site.html("topics/double"))
    assert "of output cut here" in page
    assert (site.root / "site" / "results.json").stat().st_size < 200_000


def test_markup_colour_codes_and_bad_bytes_are_shown_as_text(site_factory):
    site = site_factory(["prints_everywhere"])
    build = site.build()
    assert build.returncode == 0, build.stderr
    page = site.html("topics/prints_everywhere")
    assert "red text and &lt;b&gt;markup&lt;/b&gt;" in page
    assert "<b>markup</b>" not in page
    # The escape codes appear once, in the shown source; never in the shown output.
    assert page.count("[0m and &lt;b&gt;markup") == 1
    row = next(r for r in site.rows("prints_everywhere") if r["framework"] == "pytorch")
    assert "\x1b" not in row["stdout"] and "red text and <b>markup</b>" in row["stdout"]
    assert "bad bytes: \ufffd\ufffd" in page
    assert "Standard error" in page and "UserWarning: a warning from the snippet" in page
    # What setup printed appears once as output (plus once in the shown source).
    assert html.unescape(page).count("module level") == 2


def test_missing_framework_fails_strict_unless_allowed(site_factory, tmp_path):
    blocker = {"PYTHONPATH": import_blocker(tmp_path / "blocker", ("jax",))}
    site = site_factory(["double"])
    strict = site.build(env=blocker)
    assert strict.returncode != 0
    assert "WARNING -  JAX not run: No module named 'jax'" in strict.stderr
    lenient = site.build(strict=False, env=blocker)
    page = html.unescape(site.html("topics/double"))
    assert "JAX: not run: No module named 'jax'" in page
    assert "pytorch doubled" in page
    assert {r["status"] for r in site.rows("double") if r["framework"] == "pytorch"} == {"ok"}
    assert lenient.returncode == 0
    # The same site, allowing a missing framework: --strict passes.
    config = site.root / "mkdocs.yml"
    config.write_text(config.read_text().replace("quick: true", "quick: true\n    "
                                                 "allow_missing_frameworks: true"))
    assert site.build(env=blocker).returncode == 0


def test_topic_that_needs_a_gpu_is_skipped_with_the_reason(site_factory):
    site = site_factory(["needs_gpu", "double"])
    build = site.build()
    assert build.returncode == 0, build.stderr
    rows = site.rows("needs_gpu")
    assert {r["status"] for r in rows} == {"skipped"}
    assert rows[0]["error"]["message"] == \
        "skipped: needs a GPU; this machine runs it on cpu"
    page = html.unescape(site.html("topics/needs_gpu"))
    assert "JAX: skipped: needs a GPU; this machine runs it on cpu" in page
    assert site.results()["parity"]["needs_gpu"]["status"] == "skipped"


def test_expected_error_is_shown_and_its_absence_fails(site_factory):
    site = site_factory(["expects_error"])
    build = site.build()
    assert build.returncode == 0, build.stderr
    rows = {r["framework"]: r for r in site.rows("expects_error")}
    assert rows["jax"]["status"] == "expected_error"
    assert rows["jax"]["error"]["type"] == "TypeError"
    assert rows["pytorch"]["status"] == "ok"
    page = html.unescape(site.html("topics/expects_error"))
    assert "JAX raises TypeError in assign, as this topic expects" in page
    assert "JAX arrays are immutable" in page  # the traceback shows the offending line

    # A topic that promises an error its code never raises fails the strict build.
    (site.root / "snippets" / "expects_missing").mkdir()
    for name in ("topic.toml", "inputs.py", "pytorch.py", "jax.py"):
        source = Path(__file__).parent / "fixtures" / "topics" / "expects_missing" / name
        (site.root / "snippets" / "expects_missing" / name).write_text(source.read_text())
    (site.root / "docs" / "topics" / "expects_missing.md").write_text(
        "# Missing\n\n{{ topic expects_missing }}\n")
    failing = site.build()
    assert failing.returncode != 0
    assert "expected the call to raise TypeError (topic.toml expect_error), but it returned " \
           "normally" in failing.stderr


def test_global_state_is_restored_between_topics_on_the_page(site_factory):
    site = site_factory(["sets_x64", "checks_x64"])
    build = site.build()
    assert build.returncode == 0, build.stderr
    page = html.unescape(site.html("topics/checks_x64"))
    assert "x64: False default float: float32" in page
    assert "matmul precision: highest" in page
    assert "default dtype: torch.float32" in page
    assert "grad enabled: True matmul: highest" in page


@pytest.fixture(scope="module")
def good_cache_record(tmp_path_factory) -> str:
    """The cache file a build of the `double` fixture writes (built once for the damages)."""
    from .conftest import make_site

    site = make_site(tmp_path_factory.mktemp("cached") / "project", ["double"])
    assert site.build().returncode == 0
    return (site.root / ".cache" / "double.quick.json").read_text()


@pytest.mark.parametrize("damage", ["truncated", "old_schema", "not_json", "wrong_format"])
def test_damaged_cache_file_is_measured_again_with_a_log_line(site_factory, good_cache_record,
                                                              damage):
    site = site_factory(["double"])
    cached = site.root / ".cache" / "double.quick.json"
    cached.parent.mkdir(parents=True, exist_ok=True)
    text = good_cache_record
    if damage == "truncated":
        cached.write_text(text[: len(text) // 2])
    elif damage == "old_schema":
        cached.write_text(text.replace('"schema_version": 1', '"schema_version": 0', 1))
    elif damage == "not_json":
        cached.write_bytes(b"\x00\xff garbage")
    else:
        cached.write_text("[1, 2, 3]")
    again = site.build()
    assert again.returncode == 0, again.stderr
    expected = {"truncated": "is unreadable", "old_schema": "has schema 0, this harness writes 1",
                "not_json": "is unreadable", "wrong_format": "is not a topic record"}[damage]
    assert re.search(rf"Measuring topic 1/1 'double' \(cache file \S+double\.quick\.json "
                     rf"{expected}", again.stderr)
    assert json.loads(cached.read_text())["schema_version"] == 1


def test_two_builds_at_once_share_the_cache_without_corrupting_it(site_factory):
    site = site_factory(["double", "returns_scalar"])
    env = {**os.environ, **QUIET}
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", "mkdocs.yml", "-d"]
    first = subprocess.Popen([*command, "site-a"], cwd=site.root, env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    time.sleep(0.5)
    second = subprocess.Popen([*command, "site-b"], cwd=site.root, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    logs = [first.communicate(timeout=300)[0], second.communicate(timeout=300)[0]]
    assert first.returncode == 0 and second.returncode == 0, logs
    assert sum("Starting the JAX worker" in log for log in logs) == 1  # measured once
    assert any("Waiting for another build that holds the cache lock" in log for log in logs)
    for name in ("double", "returns_scalar"):
        record = json.loads((site.root / ".cache" / f"{name}.quick.json").read_text())
        assert record["topic"] == name
    data = [json.loads((site.root / d / "results.json").read_text()) for d in ("site-a", "site-b")]
    assert data[0]["results"] == data[1]["results"]
    assert not list((site.root / ".cache").glob(".*.tmp"))


@pytest.mark.parametrize("command", ["build", "serve"])
def test_ctrl_c_leaves_no_worker_behind_and_keeps_finished_topics(site_factory, command):
    marker = f"CTRLC_{os.getpid()}_{time.time_ns()}"
    site = site_factory(["double", "hangs"], settings={"timeout": 300})
    env = {**os.environ, **QUIET, "JAX_VS_PYTORCH_MARKER": marker}
    extra = ["-a", "127.0.0.1:0"] if command == "serve" else []
    process = subprocess.Popen(
        [sys.executable, "-m", "mkdocs", command, "-f", "mkdocs.yml", *extra], cwd=site.root,
        env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True, preexec_fn=default_sigint)
    lines: list[str] = []
    seen = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if "Running hangs" in line and "JAX" in line:
                seen.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert seen.wait(timeout=120), "".join(lines)
    time.sleep(2)  # the JAX worker is now asleep inside the snippet
    assert processes_with(marker)  # workers are running
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends
    process.wait(timeout=60)
    reader.join(timeout=10)
    assert process.returncode != 0
    time.sleep(0.5)
    assert processes_with(marker) == [], "".join(lines)
    record = json.loads((site.root / ".cache" / "double.quick.json").read_text())
    assert record["topic"] == "double" and all(r["status"] == "ok" for r in record["rows"])
    assert not (site.root / ".cache" / "hangs.quick.json").exists()
