"""No comparison across device kinds: the build stops before measuring, naming both devices and
the install that fixes it."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from build_hooks.run import batch
from build_hooks.run.devices import DeviceMismatch, device_mismatch
from build_hooks.run.process import worker_environment
from build_hooks.spec.settings import Settings

JAX_CPU = {"framework": "jax", "backend": "cpu", "accelerator": None}
JAX_GPU = {"framework": "jax", "backend": "gpu", "accelerator": "NVIDIA H100 80GB HBM3"}
TORCH_CPU = {"framework": "pytorch", "backend": "cpu", "accelerator": None}
TORCH_CUDA = {"framework": "pytorch", "backend": "cuda", "accelerator": "NVIDIA H100 80GB HBM3"}


def test_same_kind_of_device_is_fine():
    assert device_mismatch({"jax": JAX_CPU, "pytorch": TORCH_CPU}) is None
    assert device_mismatch({"jax": JAX_GPU, "pytorch": TORCH_CUDA}) is None  # gpu == cuda
    assert device_mismatch({"pytorch": TORCH_CUDA}) is None  # one framework: nothing to pair


def test_jax_without_its_cuda_plugin_names_both_devices_and_the_fix():
    problem = device_mismatch({"jax": JAX_CPU, "pytorch": TORCH_CUDA})
    assert problem is not None
    assert "JAX on cpu" in problem and "PyTorch on cuda (NVIDIA H100 80GB HBM3)" in problem
    assert "pip install -e '.[cuda]'" in problem and "COMPARISON_DEVICE=cpu" in problem


def test_pytorch_cpu_wheel_on_a_gpu_machine_names_the_pytorch_fix():
    problem = device_mismatch({"jax": JAX_GPU, "pytorch": TORCH_CPU})
    assert problem is not None and "PyTorch's CUDA build" in problem


class FakeWorker:
    def __init__(self, environment):
        self.environment, self.unavailable, self.starts = environment, None, 1


class FakePool:
    def __init__(self, environments):
        self.workers = {fw: FakeWorker(env) for fw, env in environments.items()}

    def get(self, framework):
        return self.workers[framework]


class FakeStore:
    def __init__(self, records):
        self.records = records

    def load(self, topic, key):
        return self.records.get(topic), ""


class Named:
    def __init__(self, name):
        self.name = name


def run_batch(tmp_path, monkeypatch, pool, store):
    @contextmanager
    def fake_pool(settings, log, purpose="run"):
        yield pool

    ran = []
    monkeypatch.setattr(batch, "worker_pool", fake_pool)
    monkeypatch.setattr(batch.TopicRunner, "run", lambda self, *a: ran.append(a))
    settings = Settings(tmp_path, tmp_path / "snippets", tmp_path / "cache")
    entries: dict = {}
    batch.measure_missing([(Named("double"), "key", {}, "new")], settings, store, {}, entries,
                          [], lambda message: None)
    return ran, entries


def test_the_batch_stops_before_measuring_anything(tmp_path, monkeypatch):
    """The pool reports JAX on the CPU and PyTorch on CUDA (what `pip install -e .` gives on an
    NVIDIA machine): no topic is run and no record is stored."""
    pool = FakePool({"jax": JAX_CPU, "pytorch": TORCH_CUDA})
    with pytest.raises(DeviceMismatch, match="JAX on cpu, PyTorch on cuda"):
        run_batch(tmp_path, monkeypatch, pool, FakeStore({}))


def test_no_worker_starts_when_another_build_measured_everything_meanwhile(tmp_path,
                                                                           monkeypatch):
    class Untouchable(FakePool):
        def get(self, framework):
            raise AssertionError("a worker was started with nothing to measure")

    ran, entries = run_batch(tmp_path, monkeypatch, Untouchable({}),
                             FakeStore({"double": {"topic": "double"}}))
    assert ran == [] and entries == {"double": ({"topic": "double"}, "cache")}


def test_comparison_device_cpu_hides_accelerators_from_both_workers(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPARISON_DEVICE", "cpu")
    env = worker_environment(tmp_path)
    assert env["JAX_PLATFORMS"] == "cpu" and env["CUDA_VISIBLE_DEVICES"] == ""
    monkeypatch.delenv("COMPARISON_DEVICE")
    monkeypatch.delenv("JAX_PLATFORMS", raising=False)
    assert "JAX_PLATFORMS" not in worker_environment(tmp_path)
