"""Worker processes seen from the parent: start, ask, time out, kill, restart.

A worker runs in its own session (process group), so a timeout kills it together with every
process it started (compiler subprocesses included). The parent talks to it over two pipes and
classifies each outcome as asv does: an answer, a timeout, a crash (exit code or signal), or a
framework that could not be imported.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import build_hooks
from build_hooks.core.protocol import Exit, Request, encode

PACKAGE_PARENT = str(Path(build_hooks.__file__).resolve().parent.parent)


class WorkerFailure(Exception):
    """The worker did not answer: it timed out (and was killed) or it died."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind  # "timeout" or "crashed"
        self.message = message


def describe_exit(returncode: int | None) -> str:
    if returncode is None:
        return "the worker stopped answering"
    if returncode < 0:
        number = -returncode
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        meaning = (signal.strsignal(number) or "").lower()
        if number == signal.SIGKILL:
            meaning += "; the kernel's out-of-memory killer sends this signal too"
        return f"the worker process was killed by {name} ({meaning})"
    return f"the worker process exited with code {returncode}"


def _descendants(pid: int) -> list[int]:
    """All processes below `pid`, found through /proc (children that left its group too).
    Without /proc (macOS), none: the process group kill still reaches the others."""
    children: dict[int, list[int]] = {}
    try:
        entries = list(Path("/proc").iterdir())
    except OSError:
        return []
    for entry in entries:
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    found, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


# glibc malloc keeps freed memory for reuse instead of handing large blocks back to the OS (and
# page-faulting them in again on the next call). Without this, a loop over 1M-element arrays
# measured 0.4 ms or 6.6 ms per call depending on the process's allocation history; PyTorch's
# CPU tuning guide gets the same effect by switching to jemalloc or TCMalloc.
ALLOCATOR_TUNABLES = "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967296"


def worker_environment(run_dir: Path) -> dict[str, str]:
    """The environment of both workers: fair defaults and cold compiler caches for this build."""
    env = dict(os.environ)
    # Same allocator policy for both frameworks (a user's own GLIBC_TUNABLES is kept).
    env.setdefault("GLIBC_TUNABLES", ALLOCATOR_TUNABLES)
    # JAX would otherwise take 75% of GPU memory at start-up.
    env["XLA_PYTHON_CLIENT_PREALLOCATE"] = "false"
    # A fresh inductor (and Triton) cache for every build: first calls compile cold.
    env["TORCHINDUCTOR_CACHE_DIR"] = str(run_dir / "torchinductor-cache")
    env["TRITON_CACHE_DIR"] = str(run_dir / "triton-cache")
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (PACKAGE_PARENT, env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    if env.get("COMPARISON_DEVICE", "").lower() == "cpu":
        # Both frameworks on the CPU, whatever accelerator the machine has.
        env["JAX_PLATFORMS"] = "cpu"
        env["CUDA_VISIBLE_DEVICES"] = ""
    return env


class WorkerProcess:
    """One framework's worker; started on first use and again after a failure."""

    def __init__(self, framework: str, run_dir: Path, memory_limit_mb: int,
                 env: dict[str, str], cwd: Path):
        self.framework = framework
        self.run_dir = run_dir
        self.cwd = cwd
        self.memory_limit_mb = memory_limit_mb
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None
        self.environment: dict[str, Any] | None = None
        self.unavailable: dict[str, Any] | None = None
        self.compiler_warmed = False
        self.starts = 0
        self._requests = -1
        self._responses = -1
        self._buffer = b""

    @property
    def log_path(self) -> Path:
        """What the worker itself wrote (outside any snippet's capture): imports, crashes."""
        return self.run_dir / f"{self.framework}-worker.log"

    def log_tail(self, limit: int = 2000) -> str:
        """The end of the worker's own log, for a crash report (the run folder is temporary)."""
        try:
            data = self.log_path.read_bytes()[-limit:]
        except OSError:
            return ""
        return data.decode("utf-8", errors="replace").strip()

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float) -> None:
        """Start the worker and wait for its hello; sets `unavailable` if the import failed."""
        request_read, request_write = os.pipe()
        response_read, response_write = os.pipe()
        log = self.log_path.open("ab")
        command = [sys.executable, "-m", "build_hooks.worker", "--framework", self.framework,
                   "--requests", str(request_read), "--responses", str(response_write),
                   "--memory-limit-mb", str(self.memory_limit_mb)]
        try:
            self.process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                pass_fds=(request_read, response_write), start_new_session=True, env=self.env,
                cwd=self.cwd)
        except BaseException:
            os.close(request_write)
            os.close(response_read)
            raise
        finally:
            os.close(request_read)
            os.close(response_write)
            log.close()
        self.starts += 1
        self.compiler_warmed = False  # a new process: its compiler stack starts cold
        self._requests, self._responses, self._buffer = request_write, response_read, b""
        hello = self._read(time.monotonic() + timeout)
        if hello.get("ok"):
            self.environment = hello["environment"]
            self.unavailable = None
        else:
            self.unavailable = hello["error"]
            self.stop()

    def request(self, message: Request, timeout: float) -> dict[str, Any]:
        """Send one request and wait at most `timeout` seconds for its answer."""
        if not self.alive:
            returncode = self.process.poll() if self.process is not None else None
            raise WorkerFailure("crashed", describe_exit(returncode))
        try:
            os.write(self._requests, (encode(message) + "\n").encode())
        except BrokenPipeError:
            raise WorkerFailure("crashed", self._exit_message()) from None
        return self._read(time.monotonic() + max(timeout, 0.0))

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                raise WorkerFailure("timeout", "did not finish in time")
            ready, _, _ = select.select([self._responses], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(self._responses, 1 << 16)
            if not chunk:
                message = self._exit_message()
                self.kill()
                raise WorkerFailure("crashed", message)
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return json.loads(line)

    def _exit_message(self) -> str:
        assert self.process is not None
        try:
            returncode = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            returncode = None
        message = describe_exit(returncode)
        tail = self.log_tail()
        return f"{message}; the worker's last words:\n{tail}" if tail else message

    def kill(self) -> None:
        """Kill the worker and every process it started; close the pipes."""
        if self.process is not None:
            pid = self.process.pid
            victims = _descendants(pid) if self.process.poll() is None else []
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            for victim in victims:
                try:
                    os.kill(victim, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        self._close_pipes()

    def stop(self) -> None:
        """Ask the worker to exit; kill it (and what it started) if it does not in time."""
        if self.alive:
            try:
                self.request(Exit(), timeout=5)
                assert self.process is not None
                self.process.wait(timeout=5)
            except (WorkerFailure, subprocess.TimeoutExpired):
                pass
        self.kill()

    def _close_pipes(self) -> None:
        for fd in (self._requests, self._responses):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._requests = self._responses = -1
