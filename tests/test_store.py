"""build_hooks.records.cache: cache keys, versioned records, atomic writes and the cache lock."""

from __future__ import annotations

import dataclasses
import json
import os
import select
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

import build_hooks.records.cache
from build_hooks.core.atomic import write_atomically
from build_hooks.records.cache import (
    RECORD_FORMAT,
    RECORD_SCHEMA,
    ResultStore,
    cache_key,
)
from build_hooks.spec.settings import MeasureSettings, Settings
from build_hooks.spec.topics import Topic, discover_topics

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_TOPIC = ROOT / "tests" / "fixtures" / "topics" / "double"

FINGERPRINT: dict[str, Any] = {
    "cpu": "Test CPU", "schedulable_cores": 4, "machine": "x86_64", "python": "3.11.7",
    "gpus": [], "nvidia_driver": None,
    "packages": {"jax": "0.4.30", "jaxlib": "0.4.30", "torch": "2.13.0", "numpy": "2.0.0"},
    "variables": {},
}


@pytest.fixture
def snippets(tmp_path: Path) -> Path:
    directory = tmp_path / "snippets"
    shutil.copytree(FIXTURE_TOPIC, directory / "double")
    return directory


@pytest.fixture
def settings(tmp_path: Path, snippets: Path) -> Settings:
    return Settings(project_dir=tmp_path, snippets_dir=snippets, cache_dir=tmp_path / "cache")


def load_topic(snippets: Path) -> Topic:
    [topic] = discover_topics(snippets)
    return topic


def record(topic: str = "double", key: str = "k" * 64, **extra: Any) -> dict[str, Any]:
    return {"topic": topic, "key": key, "rows": [{"size": 8, "samples": [1.0]}], "setups": [],
            "parity_checks": [], "measured_at": "2024-01-01T00:00:00+00:00", **extra}


# --- cache_key ----------------------------------------------------------------------------------

def test_cache_key_is_stable_for_identical_inputs(snippets: Path, settings: Settings) -> None:
    first = cache_key(load_topic(snippets), settings, FINGERPRINT)
    second = cache_key(load_topic(snippets), settings, json.loads(json.dumps(FINGERPRINT)))
    assert first == second
    assert len(first) == 64
    assert int(first, 16) >= 0


@pytest.mark.parametrize("filename", ["jax.py", "pytorch.py", "inputs.py"])
def test_cache_key_changes_when_a_snippet_file_changes(snippets: Path, settings: Settings,
                                                       filename: str) -> None:
    before = cache_key(load_topic(snippets), settings, FINGERPRINT)
    path = snippets / "double" / filename
    path.write_text(path.read_text() + "\n# edited\n")
    assert cache_key(load_topic(snippets), settings, FINGERPRINT) != before


def test_cache_key_changes_when_topic_toml_changes(snippets: Path, settings: Settings) -> None:
    before = cache_key(load_topic(snippets), settings, FINGERPRINT)
    path = snippets / "double" / "topic.toml"
    path.write_text(path.read_text().replace("sizes = [8, 16]", "sizes = [8, 32]"))
    topic = load_topic(snippets)
    assert topic.sizes == (8, 32)
    assert cache_key(topic, settings, FINGERPRINT) != before


def test_cache_key_changes_when_measurement_settings_change(snippets: Path,
                                                            settings: Settings) -> None:
    topic = load_topic(snippets)
    before = cache_key(topic, settings, FINGERPRINT)
    quick = dataclasses.replace(settings, measure=MeasureSettings.quick_mode())
    assert cache_key(topic, quick, FINGERPRINT) != before
    more_blocks = dataclasses.replace(settings, measure=MeasureSettings(blocks=20))
    assert cache_key(topic, more_blocks, FINGERPRINT) != before
    longer_timeout = dataclasses.replace(settings, timeout_s=settings.timeout_s + 1)
    assert cache_key(topic, longer_timeout, FINGERPRINT) != before


def test_cache_key_ignores_rendering_only_settings(snippets: Path, settings: Settings) -> None:
    topic = load_topic(snippets)
    before = cache_key(topic, settings, FINGERPRINT)
    rendering = dataclasses.replace(settings, noise_threshold=0.5, refresh=True)
    assert cache_key(topic, rendering, FINGERPRINT) == before


def test_cache_key_changes_with_the_verdict_settings_that_steer_sampling(
        snippets: Path, settings: Settings) -> None:
    """Extra rounds go where the verdict is still open, so its threshold and confidence level
    decide how much is measured."""
    topic = load_topic(snippets)
    before = cache_key(topic, settings, FINGERPRINT)
    for changed in ({"min_speedup": 1.5}, {"significance_level": 0.01}):
        assert cache_key(topic, dataclasses.replace(settings, **changed), FINGERPRINT) != before


def test_cache_key_changes_when_frameworks_change(snippets: Path, settings: Settings) -> None:
    topic = load_topic(snippets)
    only_jax = dataclasses.replace(settings, frameworks=("jax",))
    assert cache_key(topic, only_jax, FINGERPRINT) != cache_key(topic, settings, FINGERPRINT)


def test_cache_key_changes_when_machine_fingerprint_changes(snippets: Path,
                                                            settings: Settings) -> None:
    topic = load_topic(snippets)
    before = cache_key(topic, settings, FINGERPRINT)
    other_torch = json.loads(json.dumps(FINGERPRINT))
    other_torch["packages"]["torch"] = "2.14.0"
    assert cache_key(topic, settings, other_torch) != before
    other_gpu = {**FINGERPRINT, "gpus": ["NVIDIA H100"]}
    assert cache_key(topic, settings, other_gpu) != before


def test_cache_key_changes_when_harness_version_changes(snippets: Path, settings: Settings,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    topic = load_topic(snippets)
    before = cache_key(topic, settings, FINGERPRINT)
    monkeypatch.setattr(build_hooks.records.cache, "HARNESS_VERSION",
                        build_hooks.records.cache.HARNESS_VERSION + "-next")
    assert cache_key(topic, settings, FINGERPRINT) != before


# --- ResultStore.load / save --------------------------------------------------------------------

def test_save_then_load_with_same_key_returns_record(tmp_path: Path) -> None:
    store = ResultStore(tmp_path / "cache")
    saved = record()
    store.save(saved)
    assert store.path("double") == tmp_path / "cache" / "double.json"
    assert store.path("double").is_file()
    loaded, reason = store.load("double", saved["key"])
    assert reason == "cached"
    assert loaded is not None
    assert loaded["format"] == RECORD_FORMAT
    assert loaded["schema_version"] == RECORD_SCHEMA
    assert {k: loaded[k] for k in saved} == saved


def test_save_with_real_cache_key(snippets: Path, settings: Settings) -> None:
    key = cache_key(load_topic(snippets), settings, FINGERPRINT)
    store = ResultStore(settings.cache_dir)
    store.save(record(key=key))
    loaded, reason = store.load("double", key)
    assert reason == "cached" and loaded is not None and loaded["key"] == key


def test_load_with_another_key_returns_none(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    store.save(record(key="a" * 64))
    loaded, reason = store.load("double", "b" * 64)
    assert loaded is None
    assert "changed" in reason


def test_load_missing_file_returns_none(tmp_path: Path) -> None:
    loaded, reason = ResultStore(tmp_path / "nowhere").load("double", "k" * 64)
    assert loaded is None
    assert reason == "not measured yet"


def test_save_overwrites_previous_record(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    store.save(record(key="a" * 64))
    store.save(record(key="b" * 64))
    assert store.load("double", "a" * 64)[0] is None
    assert store.load("double", "b" * 64)[1] == "cached"


def write_raw(store: ResultStore, text: str) -> Path:
    path = store.path("double")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.mark.parametrize(("content", "fragment"), [
    ('{"format": "jax-vs-pytorch/topic-record", "schema_vers', "unreadable"),
    ("", "unreadable"),
    ("[1, 2, 3]", "not a topic record"),
    ('"just a string"', "not a topic record"),
    ('{"format": "something-else", "schema_version": 1}', "not a topic record"),
])
def test_load_of_unusable_file_returns_none_with_path(tmp_path: Path, content: str,
                                                      fragment: str) -> None:
    store = ResultStore(tmp_path)
    path = write_raw(store, content)
    loaded, reason = store.load("double", "k" * 64)
    assert loaded is None
    assert str(path) in reason
    assert fragment in reason


def test_load_of_truncated_saved_record_returns_none(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    store.save(record())
    path = store.path("double")
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    loaded, reason = store.load("double", "k" * 64)
    assert loaded is None
    assert str(path) in reason and "unreadable" in reason


def test_load_of_invalid_utf8_returns_none(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    path = store.path("double")
    path.write_bytes(b'{"format": "\xff\xfe"}')
    loaded, reason = store.load("double", "k" * 64)
    assert loaded is None
    assert str(path) in reason


def test_load_of_other_schema_version_returns_none(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    other = {"format": RECORD_FORMAT, **record(), "schema_version": RECORD_SCHEMA + 1}
    path = write_raw(store, json.dumps(other))
    loaded, reason = store.load("double", "k" * 64)
    assert loaded is None
    assert str(path) in reason
    assert f"schema {RECORD_SCHEMA + 1}" in reason


@pytest.mark.parametrize("missing", ["topic", "rows", "setups", "parity_checks", "measured_at"])
def test_load_of_incomplete_record_returns_none(tmp_path: Path, missing: str) -> None:
    store = ResultStore(tmp_path)
    incomplete = {"format": RECORD_FORMAT, "schema_version": RECORD_SCHEMA, **record()}
    del incomplete[missing]
    path = write_raw(store, json.dumps(incomplete))
    loaded, reason = store.load("double", "k" * 64)
    assert loaded is None
    assert str(path) in reason
    assert "incomplete" in reason


def test_load_of_unreadable_path_returns_none(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    store.path("double").mkdir()  # a folder where the file should be: read_text raises OSError
    loaded, reason = store.load("double", "k" * 64)
    assert loaded is None
    assert str(store.path("double")) in reason


# --- write_atomically ---------------------------------------------------------------------------

def leftovers(directory: Path, keep: Path) -> list[Path]:
    return [p for p in directory.iterdir() if p != keep]


def test_write_atomically_creates_parents_and_writes(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "file.json"
    write_atomically(path, "hello ✓\n")
    assert path.read_text(encoding="utf-8") == "hello ✓\n"
    assert leftovers(path.parent, path) == []


def test_write_atomically_replaces_content_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    path = tmp_path / "file.json"
    path.write_text("old content that is longer than the new one")
    write_atomically(path, "new")
    assert path.read_text() == "new"
    assert leftovers(tmp_path, path) == []


def test_write_atomically_failure_keeps_old_content(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "file.json"
    path.write_text("old")

    def failing_replace(source: Any, destination: Any) -> None:
        assert Path(source).read_text() == "new"  # the new text was fully written beside it
        raise OSError("disk on fire")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk on fire"):
        write_atomically(path, "new")
    monkeypatch.undo()
    assert path.read_text() == "old"
    assert leftovers(tmp_path, path) == []


def test_write_atomically_interrupted_write_keeps_old_content(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "file.json"
    path.write_text("old")

    def failing_fsync(descriptor: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(KeyboardInterrupt):
        write_atomically(path, "new")
    monkeypatch.undo()
    assert path.read_text() == "old"
    assert leftovers(tmp_path, path) == []


# --- lock ---------------------------------------------------------------------------------------

CHILD_SCRIPT = textwrap.dedent("""\
    import sys
    import time
    from pathlib import Path

    sys.path.insert(0, sys.argv[2])
    from build_hooks.records.cache import ResultStore

    cache_dir = Path(sys.argv[1])

    def on_wait():
        print("WAITING", flush=True)

    with ResultStore(cache_dir).lock(on_wait=on_wait):
        released = (cache_dir / "released").exists()
        print(f"ACQUIRED {time.time()!r} released={released}", flush=True)
""")


def run_child(cache_dir: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", CHILD_SCRIPT, str(cache_dir), str(ROOT)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_lock_without_contention_does_not_call_on_wait(tmp_path: Path) -> None:
    calls: list[str] = []
    store = ResultStore(tmp_path / "cache")
    with store.lock(on_wait=lambda: calls.append("waited")):
        assert (tmp_path / "cache" / ".lock").exists()
    with store.lock(on_wait=lambda: calls.append("waited")):  # released, so free again
        pass
    assert calls == []


def test_second_process_waits_until_lock_is_released(tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    parent_waits: list[str] = []
    with ResultStore(cache_dir).lock(on_wait=lambda: parent_waits.append("waited")):
        child = run_child(cache_dir)
        try:
            assert child.stdout is not None
            ready, _, _ = select.select([child.stdout], [], [], 10)
            assert ready, "the child neither waited nor acquired within 10 s"
            first_line = child.stdout.readline()
            assert first_line == "WAITING\n", child.stderr.read() if child.stderr else ""
            time.sleep(0.3)
            assert child.poll() is None  # still blocked on the lock
            (cache_dir / "released").touch()
            released_at = time.time()
        except BaseException:
            child.kill()
            raise
    stdout, stderr = child.communicate(timeout=10)
    assert child.returncode == 0, stderr
    assert parent_waits == []
    acquired_line = stdout.strip()
    assert acquired_line.startswith("ACQUIRED ")
    assert acquired_line.endswith("released=True")
    acquired_at = float(acquired_line.split()[1])
    assert acquired_at >= released_at


def test_lock_is_free_for_another_process_after_release(tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    with ResultStore(cache_dir).lock(on_wait=lambda: None):
        pass
    (cache_dir / "released").touch()
    stdout, stderr = run_child(cache_dir).communicate(timeout=10)
    assert "WAITING" not in stdout, stderr
    assert "ACQUIRED" in stdout and "released=True" in stdout
