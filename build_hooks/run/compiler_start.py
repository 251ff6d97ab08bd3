"""What starting a framework's compilers once leaves on disk, made once per machine and kept.

The first `torch.compile` in a process pays a one-off start-up that no topic is about: Inductor
compiles and runs its instruction-set probes and builds the C++ (or Triton) code of its first
kernels with gcc, about 20 s on the 2-core development machine. The harness keeps that start-up
out of every measurement already (the workers warm their compilers up before the first topic
that compiles; a fresh "cold" process starts from a cache holding what one start of the
compilers leaves). This module makes that state once and keeps it across builds, as Inductor's
own default cache in /tmp is kept: a folder per framework, holding the persistent compilation
caches of one process that ran the harness's warm-up (`WarmUp`, on a tiny function) and exited.

- The build's workers get a copy in their compiler cache folders before their warm-up, which
  then loads the probes and kernels it would otherwise build, and still traces, lowers and
  generates code (the PyTorch adapter keeps its FX graph cache off for the warm-up): the
  workers' state after the warm-up is the same, reached without gcc. Each variant's first call
  then compiles in a new, empty folder, as before.
- Each fresh "cold" process starts from a copy (run/fresh.py), as it did from the template one
  untimed process made in every build.

The folder's name holds a digest of what its contents depend on: the framework versions,
Python, the CPU and GPUs, the device variables of the workers' environment and the warm-up's
code. With another of those a new folder is made (and folders of the same framework unused
for a week are removed). It lives in `COMPARISON_COMPILER_START_DIR`, else
`$XDG_CACHE_HOME/jax-vs-pytorch/compiler-start` (`~/.cache/...`). A folder is made in a
temporary sibling and renamed into place, so builds running at once never see half of one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from build_hooks import FRAMEWORK_LABELS, HARNESS_VERSION
from build_hooks.core import Log, host
from build_hooks.core.protocol import PERSISTENT_CACHE_ENV, WarmUp, error_record
from build_hooks.records.cache import code_digest
from build_hooks.run.process import WorkerFailure, WorkerProcess
from build_hooks.spec.settings import Settings

ROOT_ENV = "COMPARISON_COMPILER_START_DIR"
UNUSED_AFTER_S = 7 * 24 * 3600
# The persistent caches of a process, as subfolders of one cache folder, with the variable
# that points each framework at its own; the build's workers get the same subfolders copied
# into the folders their environment names (JAX's workers keep no disk cache: nothing to copy).
CACHE_FOLDERS = {"jax": PERSISTENT_CACHE_ENV, "inductor": "TORCHINDUCTOR_CACHE_DIR",
                 "triton": "TRITON_CACHE_DIR"}
WORKER_CACHES = {"jax": (), "pytorch": ("inductor", "triton")}
WARM_UP_CODE = ("worker/adapters.py",)


def default_root() -> Path:
    if os.environ.get(ROOT_ENV):
        return Path(os.environ[ROOT_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "jax-vs-pytorch" / "compiler-start"


def cache_environment(base: dict[str, str], cache_dir: Path) -> dict[str, str]:
    """`base` with every persistent compilation cache in a subfolder of `cache_dir`."""
    env = dict(base)
    for folder, variable in CACHE_FOLDERS.items():
        env[variable] = str(cache_dir / folder)
    return env


def start_key(framework: str, base_env: dict[str, str]) -> str:
    """A digest of what the folder's contents depend on."""
    fingerprint = host.fingerprint(host.machine())
    fingerprint["variables"] = {name: base_env[name] for name in sorted(base_env)
                                if name in host.DEVICE_VARIABLES or name == "COMPARISON_DEVICE"}
    parts = [framework, HARNESS_VERSION, code_digest(WARM_UP_CODE), fingerprint]
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def prime_compilers(framework: str, cache_dir: Path, base_env: dict[str, str],
                    settings: Settings, folder: Path, timeout: float) -> dict[str, Any]:
    """One untimed process that starts the framework's compilers with `cache_dir` (the
    harness's warm-up on a tiny function) and exits: {"status": "ok"} or a failure record."""
    folder.mkdir(parents=True, exist_ok=True)
    worker = WorkerProcess(framework, folder, settings.memory_limit_mb,
                           cache_environment(base_env, cache_dir), cwd=settings.project_dir)
    started = time.monotonic()
    try:
        worker.start(timeout)
        if worker.unavailable is not None:
            return {"status": "not_run", "error": worker.unavailable}
        worker.request(WarmUp(), timeout - (time.monotonic() - started))
    except WorkerFailure as failure:
        return {"status": failure.kind, "error": error_record(
            "WorkerCrash", f"starting the compilers in a fresh process failed: "
                           f"{failure.message}")}
    finally:
        worker.stop()
    return {"status": "ok"}


class CompilerStarts:
    """The kept compiler start-up of each framework, made on first use."""

    def __init__(self, settings: Settings, base_env: dict[str, str], progress: Log,
                 root: Path | None = None):
        self.settings = settings
        self.base_env = base_env
        self.progress = progress
        self.root = root or default_root()
        self.made: dict[str, bool] = {}
        """framework -> True if this build made its folder, False if it found it."""

    def folder(self, framework: str, timeout: float) -> tuple[Path | None, dict[str, Any]]:
        """The framework's folder (made now if missing) and {"status": "ok"}, or None and the
        failure record of the process that tried to make it."""
        path = self.root / f"{framework}-{start_key(framework, self.base_env)}"
        if path.is_dir():
            self.made.setdefault(framework, False)
            os.utime(path)  # in use: not removed as unused
            return path, {"status": "ok"}
        self.progress(f"Starting the {FRAMEWORK_LABELS[framework]} compilers once in a process "
                      f"of their own, kept for later builds in {path}")
        self.root.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".{framework}-", dir=self.root))
        try:
            info = prime_compilers(framework, scratch / "cache", self.base_env, self.settings,
                                   scratch / "run", timeout)
            if info["status"] != "ok":
                return None, info
            try:
                os.rename(scratch / "cache", path)
            except OSError:
                if not path.is_dir():  # not another build's folder renamed first: a failure
                    raise
            self.made[framework] = True
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        self._remove_unused(framework, keep=path)
        return path, info

    def _remove_unused(self, framework: str, keep: Path) -> None:
        cutoff = time.time() - UNUSED_AFTER_S
        for other in self.root.glob(f"{framework}-*"):
            try:
                if other != keep and other.stat().st_mtime < cutoff:
                    shutil.rmtree(other, ignore_errors=True)
            except OSError:
                continue

    def copy_into(self, framework: str, destination: Path, timeout: float) -> dict[str, Any]:
        """A copy of the framework's folder in `destination` (a fresh cold cache folder)."""
        path, info = self.folder(framework, timeout)
        if path is not None:
            shutil.copytree(path, destination, dirs_exist_ok=True)
        return info

    def give_worker(self, framework: str, worker_env: dict[str, str], timeout: float
                    ) -> dict[str, Any]:
        """Copy the framework's folder into the cache folders of a build worker's
        environment (before its warm-up). Nothing to do for a framework whose workers keep no
        disk cache; a failure to make the folder leaves the worker to start cold."""
        if not WORKER_CACHES.get(framework):
            return {"status": "ok"}
        path, info = self.folder(framework, timeout)
        if path is None:
            return info
        for name in WORKER_CACHES[framework]:
            if (path / name).is_dir() and worker_env.get(CACHE_FOLDERS[name]):
                shutil.copytree(path / name, worker_env[CACHE_FOLDERS[name]], dirs_exist_ok=True)
        return info
