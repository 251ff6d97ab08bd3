"""What an author waits for under `make serve`: from saving a file to the reload message.

`ServeSession` starts `properdocs serve` on a copy of the project (site_copies.copy_project),
waits for its first build, then edits files and times each rebuild from the moment before the
file is written to the moment the server prints "Reloading browsers" (what the author's browser
waits for, the watcher's own delay included). Every line of the server's log is kept with the
time it arrived, so a measurement can also say what the rebuild did (which topics it measured).
"""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from build_hooks.tools.progress import TOPIC

READY = "Serving on"
RELOADED = "Reloading browsers"
FAILED = "An error happened during the rebuild"


class ServeError(Exception):
    pass


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _default_sigint() -> None:
    """In the child: SIGINT stops it (the bench may run from a shell that ignores SIGINT,
    `make bench &` without job control, and an ignored signal stays ignored across exec)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class ServeSession:
    """A running `properdocs serve` of `config_file`; use as a context manager."""

    def __init__(self, config_file: Path, env: dict[str, str], start_timeout: float = 900):
        self.config_file = config_file
        self.env = env
        self.start_timeout = start_timeout
        self.lines: queue.Queue[tuple[float, str]] = queue.Queue()
        self.log: list[tuple[float, str]] = []
        self.process: subprocess.Popen[str] | None = None

    def __enter__(self) -> ServeSession:
        command = [sys.executable, "-m", "properdocs", "serve", "-f", str(self.config_file),
                   "-a", f"127.0.0.1:{_free_port()}"]
        self.process = subprocess.Popen(command, cwd=self.config_file.parent, env=self.env,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True, start_new_session=True,
                                        preexec_fn=_default_sigint)
        threading.Thread(target=self._read, daemon=True).start()
        self._wait_for(READY, time.monotonic(), self.start_timeout)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)  # as Ctrl-C: the server stops its workers
            try:
                self.process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put((time.monotonic(), line.rstrip("\n")))

    def _wait_for(self, marker: str, after: float, timeout: float) -> tuple[float, list[str]]:
        """The arrival time of the first line containing `marker` that arrived after `after`,
        and the lines that arrived from `after` up to it."""
        deadline = time.monotonic() + timeout
        seen: list[str] = []
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ServeError(f"no '{marker}' from `properdocs serve` within {timeout:g} s; "
                                 "its last lines:\n" + "\n".join(seen[-20:]))
            try:
                arrived, line = self.lines.get(timeout=min(remaining, 1.0))
            except queue.Empty:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise ServeError("`properdocs serve` exited; its last lines:\n" +
                                     "\n".join(seen[-20:])) from None
                continue
            self.log.append((arrived, line))
            if arrived < after:
                continue
            seen.append(line)
            if FAILED in line:
                raise ServeError("the rebuild failed:\n" + "\n".join(seen[-20:]))
            if marker in line:
                return arrived, seen

    def time_edit(self, path: Path, text: str, timeout: float = 900) -> tuple[float, list[str]]:
        """Write `text` to `path`; seconds until the reload message, and the rebuild's log."""
        self._drain()
        started = time.monotonic()
        path.write_text(text)
        arrived, seen = self._wait_for(RELOADED, started, timeout)
        return arrived - started, seen

    def _drain(self) -> None:
        """Let a pending rebuild finish and forget its lines, so a measurement starts idle."""
        time.sleep(1.0)
        while not self.lines.empty():
            self.log.append(self.lines.get_nowait())


def measured_topics(log_lines: list[str]) -> list[str]:
    """The topics a build measured, from its log ("Measuring topic 1/1 'name' (...)")."""
    return [m.group(3) for line in log_lines if (m := TOPIC.search(line))]
