"""The build's worker processes, one per framework, in a temporary run folder."""

from __future__ import annotations

import functools
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from build_hooks import FRAMEWORK_LABELS
from build_hooks.core import Log
from build_hooks.core.protocol import error_record
from build_hooks.run.compiler_start import CompilerStarts
from build_hooks.run.parallel import side_by_side
from build_hooks.run.process import WorkerFailure, WorkerProcess, worker_environment
from build_hooks.spec.settings import Settings


class WorkerPool:
    """The build's workers, one per framework, started lazily and restarted after a failure."""

    def __init__(self, settings: Settings, run_dir: Path, progress: Log,
                 extra_env: dict[str, str] | None = None):
        self.settings = settings
        self.run_dir = run_dir
        self.progress = progress
        env = {**worker_environment(run_dir), **(extra_env or {})}
        self.env = env
        """The workers' environment (fresh-process variants start from it too)."""
        self.compiler_starts = CompilerStarts(settings, env, progress)
        """The compiler start-up this machine keeps, for these workers' environment."""
        # Workers run in the project folder, so snippets see the paths readers see.
        self.workers = {fw: WorkerProcess(fw, run_dir, settings.memory_limit_mb, env,
                                          cwd=settings.project_dir)
                        for fw in settings.frameworks}

    def get(self, framework: str) -> WorkerProcess:
        worker = self.workers[framework]
        if not worker.alive and worker.unavailable is None:
            label = FRAMEWORK_LABELS[framework]
            again = " again" if worker.starts else ""
            self.progress(f"Starting the {label} worker{again} (imports {framework} once)")
            try:
                worker.start(timeout=self.settings.timeout_s)
            except WorkerFailure as failure:
                worker.unavailable = error_record(
                    "WorkerFailure", f"the {label} worker failed to start: {failure.message}")
        return worker

    def shut_down(self, finished: bool) -> None:
        """Stop the workers when the work finished; kill them at once otherwise (Ctrl-C, an
        error): what was finished is already stored."""
        if finished:
            self.close()
        else:
            self.kill()

    def close(self) -> None:
        """Ask every worker to exit, side by side (a PyTorch worker's exit, its compile
        workers shutting down, takes a second or more); kill one that fails to."""
        def stop(worker: WorkerProcess) -> None:
            try:
                worker.stop()
            except Exception:  # stopping one worker must not leave the other running
                worker.kill()

        side_by_side({fw: functools.partial(stop, worker)
                      for fw, worker in self.workers.items()})

    def kill(self) -> None:
        for worker in self.workers.values():
            try:
                worker.kill()
            except Exception:
                continue


@contextmanager
def worker_pool(settings: Settings, log: Log, purpose: str = "run") -> Iterator[WorkerPool]:
    """A pool in a fresh run folder; on leaving, the workers are stopped (or killed, if an
    exception is leaving too) and the folder is removed."""
    run_dir = Path(tempfile.mkdtemp(prefix=f"jax-vs-pytorch-{purpose}-"))
    pool = WorkerPool(settings, run_dir, log)
    finished = False
    try:
        yield pool
        finished = True
    finally:
        try:
            pool.shut_down(finished)
        finally:
            shutil.rmtree(run_dir, ignore_errors=True)
