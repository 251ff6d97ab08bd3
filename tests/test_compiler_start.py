"""Untimed work side by side, and the compiler start-up each machine keeps across builds."""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from pathlib import Path

import pytest

from build_hooks.pipeline import run_build
from build_hooks.run import compiler_start
from build_hooks.run.compiler_start import CompilerStarts, start_key
from build_hooks.run.parallel import side_by_side
from build_hooks.run.process import worker_environment
from build_hooks.spec.settings import MeasureSettings

from .conftest import import_blocker
from .test_runner import settings_for


def test_side_by_side_runs_the_calls_at_once_and_keeps_their_order():
    barrier = threading.Barrier(2, timeout=10)  # broken if the calls ran one after the other

    def call(value: int) -> int:
        barrier.wait()
        return value * 10

    assert side_by_side({"b": lambda: call(2), "a": lambda: call(1)}) == {"b": 20, "a": 10}
    assert list(side_by_side({"b": lambda: 2, "a": lambda: 1})) == ["b", "a"]


def test_side_by_side_raises_the_first_error_after_every_call_finished():
    finished = []

    def slow() -> None:
        time.sleep(0.2)
        finished.append("slow")

    def fails() -> None:
        raise ValueError("first")

    with pytest.raises(ValueError, match="first"):
        side_by_side({"fails": fails, "slow": slow})
    assert finished == ["slow"]


@pytest.fixture
def starts_for(tmp_path):
    def make(frameworks=("jax",), env=None, messages=None):
        (tmp_path / "project").mkdir(exist_ok=True)
        settings = settings_for(tmp_path / "project", [], frameworks=tuple(frameworks))
        base = {**worker_environment(tmp_path / "run"), **(env or {})}
        log = messages.append if messages is not None else (lambda message: None)
        return CompilerStarts(settings, base, log, root=tmp_path / "kept")
    return make


@pytest.mark.slow
def test_a_framework_start_up_is_made_once_and_found_by_later_builds(starts_for, tmp_path):
    messages: list[str] = []
    first = starts_for(messages=messages)
    path, info = first.folder("jax", timeout=120)
    assert info == {"status": "ok"} and path is not None and path.is_dir()
    assert first.made == {"jax": True}
    assert [m for m in messages if "compilers once" in m] == [
        f"Starting the JAX compilers once in a process of their own, kept for later builds "
        f"in {path}"]
    # What the warm-up left: JAX's persistent cache holds the tiny function it compiled.
    assert any((path / "jax").iterdir())
    # Nothing half-made is left beside it.
    assert sorted(p.name for p in (tmp_path / "kept").iterdir()) == [path.name]
    later_messages: list[str] = []
    later = starts_for(messages=later_messages)
    assert later.folder("jax", timeout=120) == (path, {"status": "ok"})
    assert later.made == {"jax": False} and later_messages == []
    # A cold fresh process gets a copy of it.
    copied = tmp_path / "cold-0"
    assert later.copy_into("jax", copied, timeout=120) == {"status": "ok"}
    assert sorted(p.name for p in (copied / "jax").iterdir()) == \
        sorted(p.name for p in (path / "jax").iterdir())


def test_the_key_follows_the_device_variables_of_the_workers_environment():
    base = {"PATH": "/bin"}
    assert start_key("jax", base) == start_key("jax", {**base, "UNRELATED": "1"})
    assert start_key("jax", base) != start_key("jax", {**base, "JAX_PLATFORMS": "cpu"})
    assert start_key("jax", base) != start_key("jax", {**base, "COMPARISON_DEVICE": "cpu"})
    assert start_key("jax", base) != start_key("pytorch", base)


def test_a_pytorch_worker_gets_a_copy_in_its_inductor_and_triton_folders(starts_for, tmp_path):
    starts = starts_for(frameworks=("pytorch",))
    kept = starts.root / f"pytorch-{start_key('pytorch', starts.base_env)}"
    for name in ("inductor", "triton", "jax"):
        (kept / name).mkdir(parents=True)
        (kept / name / "entry").write_text(name)
    worker_env = dict(starts.base_env)
    assert starts.give_worker("pytorch", worker_env, timeout=60) == {"status": "ok"}
    assert starts.made == {"pytorch": False}  # found: no process was started
    assert (Path(worker_env["TORCHINDUCTOR_CACHE_DIR"]) / "entry").read_text() == "inductor"
    assert (Path(worker_env["TRITON_CACHE_DIR"]) / "entry").read_text() == "triton"
    # JAX's build workers keep no disk cache: nothing is made or copied for them.
    jax_starts = starts_for()
    assert jax_starts.give_worker("jax", dict(jax_starts.base_env), timeout=60) == \
        {"status": "ok"}
    assert not list(starts.root.glob("jax-*"))


@pytest.mark.slow
def test_a_framework_that_cannot_start_leaves_nothing_behind(starts_for, tmp_path):
    blocker = import_blocker(tmp_path / "blocker", ("jax", "jaxlib"))
    starts = starts_for(env={"PYTHONPATH": blocker + os.pathsep +
                             worker_environment(tmp_path / "run")["PYTHONPATH"]})
    path, info = starts.folder("jax", timeout=60)
    assert path is None and info["status"] == "not_run"
    assert "jax" in info["error"]["message"]
    assert list(starts.root.iterdir()) == []


def test_folders_of_the_same_framework_unused_for_a_week_are_removed(starts_for, tmp_path,
                                                                    monkeypatch):
    starts = starts_for()
    old, recent, other = (starts.root / name for name in ("jax-old", "jax-recent",
                                                          "pytorch-old"))
    for folder in (old, recent, other):
        folder.mkdir(parents=True)
    week_ago = time.time() - compiler_start.UNUSED_AFTER_S - 60
    for folder in (old, other):
        os.utime(folder, (week_ago, week_ago))
    keep = starts.root / "jax-new"
    keep.mkdir()
    starts._remove_unused("jax", keep)
    assert sorted(p.name for p in starts.root.iterdir()) == ["jax-new", "jax-recent",
                                                            "pytorch-old"]


@pytest.mark.slow
def test_quick_mode_prepares_both_frameworks_at_once_and_keeps_the_row_order(tmp_path,
                                                                            monkeypatch):
    """Each side's setup records when it ran and sleeps: in quick mode the two overlap, in a
    full measurement they never do; the rows come out in the same order either way."""
    spans = tmp_path / "spans.log"
    monkeypatch.setenv("SPANS_LOG", str(spans))
    orders = {}
    for overlap in (True, False):
        spans.write_text("")
        measure = dataclasses.replace(MeasureSettings.quick_mode(), overlap_prepare=overlap)
        settings = settings_for(tmp_path / f"overlap-{overlap}", ["double"], measure=measure)
        for framework in ("jax", "pytorch"):
            side = settings.snippets_dir / "double" / f"{framework}.py"
            side.write_text(side.read_text().replace(
                "def setup(", "def _setup(") + (
                "\n\ndef setup(inputs, device):\n"
                "    import os, time\n"
                "    start = time.time()\n"
                "    time.sleep(0.5)\n"
                "    result = _setup(inputs, device)\n"
                "    with open(os.environ['SPANS_LOG'], 'a') as log:\n"
                "        log.write(f'{start} {time.time()}\\n')\n"
                "    return result\n"))
        results = run_build(settings, lambda message: None)
        assert all(row["status"] == "ok" for row in results.data["results"])
        orders[overlap] = [(r["framework"], r["size"]) for r in results.data["results"]]
        lines = [tuple(map(float, line.split())) for line in spans.read_text().splitlines()]
        assert len(lines) == 4  # two sizes, two sides
        pairs = [sorted(lines[0:2]), sorted(lines[2:4])]
        overlapping = [first[1] > second[0] for first, second in pairs]
        assert overlapping == [overlap, overlap], lines
        described = results.data["environment"]["measurement"]
        assert described["overlap_prepare"] is overlap
    assert orders[True] == orders[False]


class _MarkedStarts:
    """Stands in for CompilerStarts: the 'start-up' it copies is one marked file."""

    def copy_into(self, framework: str, destination: Path, timeout: float) -> dict:
        destination.mkdir(parents=True, exist_ok=True)
        (destination / f"{framework}-start-up").write_text("made by the compiler warm-up")
        return {"status": "ok"}


@pytest.mark.parametrize("state", ["cold", "warm"])
def test_every_fresh_process_cache_starts_from_the_compiler_start_up(tmp_path, monkeypatch,
                                                                     state):
    """Cold: each timed process gets a copy of the start-up alone. Warm: the untimed priming
    process starts from it too (a machine that ran the script once had started the compilers
    before), and the timed processes then find the start-up and what the priming added."""
    from types import SimpleNamespace

    from build_hooks.run import fresh

    seen: list[tuple[str, list[str]]] = []

    def fake_run_once(framework, request, cache_dir, base_env, settings, folder, timeout,
                      exit_cleanly=True):
        seen.append((folder.name, sorted(p.name for p in cache_dir.iterdir())))
        (cache_dir / f"{folder.name}-entry").write_text("compiled")
        return {"status": "ok", "to_first_result_s": 1.0, "first_call_s": 0.5}

    monkeypatch.setattr(fresh, "run_once", fake_run_once)
    settings = settings_for(tmp_path / "project", [], frameworks=("jax",))
    runs = fresh.FreshRuns(settings, {}, tmp_path / "topic", _MarkedStarts())
    request = SimpleNamespace(capture_prefix=str(tmp_path / "captures" / "last"))
    records = runs.measure("step", state, {"jax": request}, {"jax": str(tmp_path / "jax")},
                           {"jax": 100.0}, {"jax": 0.0})
    assert records["jax"]["status"] == "ok"
    samples = max(2, settings.measure.min_samples)
    if state == "cold":
        assert seen == [(f"run-{i}", ["jax-start-up"]) for i in range(samples)]
    else:
        assert seen[0] == ("priming", ["jax-start-up"])
        assert seen[1] == ("run-0", ["jax-start-up", "priming-entry"])
        assert len(seen) == samples + 1 and records["jax"]["fresh"]["cache"] == "warm"


def _spans_of_fake_processes(monkeypatch, seconds):
    """run_once stood in: each 'process' sleeps `seconds(framework, folder name)` and records
    (framework, cache folder, run folder, start, end, exit_cleanly); the list is returned."""
    from build_hooks.run import fresh

    spans: list[tuple[str, str, str, float, float, bool]] = []
    lock = threading.Lock()

    def fake_run_once(framework, request, cache_dir, base_env, settings, folder, timeout,
                      exit_cleanly=True):
        started = time.monotonic()
        time.sleep(seconds(framework, folder.name))
        with lock:
            spans.append((framework, str(cache_dir.relative_to(cache_dir.parents[2])),
                          folder.name, started, time.monotonic(), exit_cleanly))
        return {"status": "ok", "to_first_result_s": 1.0, "first_call_s": 0.5}

    monkeypatch.setattr(fresh, "run_once", fake_run_once)
    return spans


def _fresh_runs(tmp_path, overlap_prepare: bool):
    """FreshRuns over both frameworks with stand-in start-ups, and the arguments `measure`
    takes after the variant's name and state: requests, prefixes, time left, time spent."""
    from types import SimpleNamespace

    from build_hooks.run import fresh

    measure = dataclasses.replace(MeasureSettings.quick_mode(), overlap_prepare=overlap_prepare)
    settings = settings_for(tmp_path / "project", [], measure=measure)
    runs = fresh.FreshRuns(settings, {}, tmp_path / "topic", _MarkedStarts())
    frameworks = ("jax", "pytorch")
    requests = {fw: SimpleNamespace(capture_prefix=str(tmp_path / fw / "last"))
                for fw in frameworks}
    return runs, (requests, {fw: str(tmp_path / fw / "kept") for fw in frameworks},
                  {fw: 100.0 for fw in frameworks}, {fw: 0.0 for fw in frameworks})


def test_a_full_measurement_runs_one_fresh_process_at_a_time_alternating(tmp_path,
                                                                        monkeypatch):
    """Timed processes never overlap, the frameworks take turns, and each timed process is
    killed once it answered (exit_cleanly false) while the warm cache's filling exits."""
    import itertools

    spans = _spans_of_fake_processes(monkeypatch, lambda framework, name: 0.1)
    runs, arguments = _fresh_runs(tmp_path, overlap_prepare=False)
    records = runs.measure("step", "warm", *arguments)
    frameworks = ("jax", "pytorch")
    samples = max(2, runs.settings.measure.min_samples)
    for framework in frameworks:
        assert records[framework]["status"] == "ok"
        assert len(records[framework]["samples"]) == samples
    primings = [span for span in spans if span[2] == "priming"]
    assert sorted(span[0] for span in primings) == ["jax", "pytorch"]
    assert all(span[5] for span in primings)  # the fillings exit cleanly
    timed = sorted((span for span in spans if span[2] != "priming"), key=lambda span: span[3])
    assert not any(span[5] for span in timed)  # timed processes are killed
    assert min(span[3] for span in timed) >= max(span[4] for span in primings)
    assert not any(first[4] > second[3] for first, second in itertools.pairwise(timed))
    assert [span[0] for span in timed] == (["jax", "pytorch", "pytorch", "jax"] * samples)[
        :2 * samples]


def test_quick_mode_runs_every_fresh_process_of_a_size_two_at_a_time(tmp_path, monkeypatch):
    """Quick mode pools the processes of all fresh variants: never more than two at once,
    a warm variant's timed runs only after its cache was filled, never two processes of one
    variant and framework at once, every sample kept."""
    import itertools
    from types import SimpleNamespace

    from build_hooks.run import fresh

    # PyTorch's processes are slow, JAX's quick, as with a cold Inductor cache.
    spans = _spans_of_fake_processes(
        monkeypatch, lambda framework, name: 0.3 if framework == "pytorch" else 0.05)
    settings = settings_for(tmp_path / "project", [], measure=MeasureSettings.quick_mode())
    runs = fresh.FreshRuns(settings, {}, tmp_path / "topic", _MarkedStarts())
    frameworks = ("jax", "pytorch")
    variants = [fresh.FreshVariant(
        name, state, {fw: SimpleNamespace(capture_prefix=str(tmp_path / name / fw / "last"))
                      for fw in frameworks},
        {fw: str(tmp_path / name / fw / "kept") for fw in frameworks})
        for name, state in (("cold", "cold"), ("warm", "warm"))]
    found = runs.measure_pooled(variants, {fw: 100.0 for fw in frameworks},
                                {fw: 0.0 for fw in frameworks})
    samples = max(2, settings.measure.min_samples)
    for name in ("cold", "warm"):
        for framework in frameworks:
            record = found[name][framework]
            assert record["status"] == "ok" and len(record["samples"]) == samples
            assert record["fresh"]["cache"] == name
    assert len(spans) == 2 * 2 * samples + 2  # the timed runs and two fillings
    events = sorted([(span[3], 1) for span in spans] + [(span[4], -1) for span in spans])
    running, most = 0, 0
    for _, change in events:
        running += change
        most = max(most, running)
    assert most == 2
    for name in ("cold", "warm"):
        for framework in frameworks:
            own = sorted((span for span in spans if span[1].startswith(f"fresh-{name}/"
                                                                        f"{framework}/")),
                         key=lambda span: span[3])
            assert all(first[4] <= second[3] for first, second in itertools.pairwise(own))
            if name == "warm":
                assert own[0][2] == "priming" and own[0][5]
                assert all(span[1].endswith("/cache") and not span[5] for span in own[1:])
            else:
                assert [span[2] for span in own] == [f"run-{i}" for i in range(samples)]
    # The slow framework's cold runs and warm cache share the slots with each other, not only
    # with the other framework (which a turn of one process per framework would do).
    torch = [span for span in spans if span[0] == "pytorch"]
    assert any(a[3] < b[4] and b[3] < a[4] for a in torch for b in torch if a is not b)


@pytest.mark.parametrize("pooled", [False, True])
def test_a_failed_warm_filling_times_no_process_of_its_framework(tmp_path, monkeypatch,
                                                                 pooled):
    """A warm cache that could not be filled has nothing to time: its framework's timed runs
    are not started, its record carries the filling's error, the other framework's go on."""
    from build_hooks.run import fresh

    started: list[tuple[str, str]] = []

    def fake_run_once(framework, request, cache_dir, base_env, settings, folder, timeout,
                      exit_cleanly=True):
        started.append((framework, folder.name))
        if framework == "jax" and folder.name == "priming":
            return {"status": "error", "error": {"type": "ValueError", "message": "no fill"}}
        return {"status": "ok", "to_first_result_s": 1.0, "first_call_s": 0.5}

    monkeypatch.setattr(fresh, "run_once", fake_run_once)
    runs, (requests, prefixes, remaining, spent) = _fresh_runs(tmp_path, overlap_prepare=pooled)
    if pooled:
        records = runs.measure_pooled([fresh.FreshVariant("step", "warm", requests, prefixes)],
                                      remaining, spent)["step"]
    else:
        records = runs.measure("step", "warm", requests, prefixes, remaining, spent)
    samples = max(2, runs.settings.measure.min_samples)
    assert [name for framework, name in started if framework == "jax"] == ["priming"]
    assert records["jax"]["status"] == "error" and records["jax"]["samples"] == []
    assert records["jax"]["error"]["message"] == "no fill"
    assert records["pytorch"]["status"] == "ok" and len(records["pytorch"]["samples"]) == samples


class _SlowWorker:
    """Stands in for a WorkerProcess whose start and exit take a while, recording both."""

    def __init__(self, framework: str, spans: list[tuple[str, str, float, float]]):
        self.framework = framework
        self.spans = spans
        self.alive = False
        self.unavailable = None
        self.starts = 0
        self.environment: dict | None = None

    def _span(self, what: str) -> None:
        started = time.monotonic()
        time.sleep(0.3)
        self.spans.append((self.framework, what, started, time.monotonic()))

    def start(self, timeout: float) -> None:
        self._span("start")
        self.alive, self.starts = True, self.starts + 1
        self.environment = {"backend": "cpu", "device_kind": "cpu"}

    def stop(self) -> None:
        self._span("stop")
        self.alive = False

    def kill(self) -> None:
        self.alive = False


def test_the_build_starts_and_stops_its_workers_side_by_side(tmp_path):
    """Neither a framework's import nor a worker's exit is timed: the build's two workers
    start at once before the first topic and exit at once after the last."""
    from build_hooks.run import batch
    from build_hooks.run.pool import WorkerPool

    spans: list[tuple[str, str, float, float]] = []
    settings = settings_for(tmp_path / "project", [])
    pool = WorkerPool(settings, tmp_path / "run", lambda message: None)
    pool.workers = {fw: _SlowWorker(fw, spans) for fw in settings.frameworks}
    batch._check_devices(pool, settings)
    pool.close()
    assert len(settings.frameworks) == 2
    for what in ("start", "stop"):
        (a, b) = [span for span in spans if span[1] == what]
        assert a[2] < b[3] and b[2] < a[3], spans  # the two overlap
    assert all(not worker.alive for worker in pool.workers.values())
