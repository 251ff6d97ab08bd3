"""Progress for long work on the command line: a bar on a terminal, plain lines otherwise.

The build reports progress as messages ("Measuring topic 2/5 'matmul' ...", "round 3/5");
this turns them into a one-line bar that is redrawn in place, so a long refresh shows which
topic and framework is running and how far along it is.
"""

from __future__ import annotations

import re
import sys
from typing import TextIO

TOPIC = re.compile(r"Measuring topic (\d+)/(\d+) '([^']+)'")
STEP = re.compile(r"(?:Running|Measuring) (\S+) \(\d+/\d+\) · (.*)$")


class ProgressLog:
    """A log callback: draws a bar when the stream is a terminal, else prints each message."""

    def __init__(self, stream: TextIO | None = None, width: int = 24):
        self.stream = stream or sys.stderr
        self.width = width
        self.tty = self.stream.isatty()
        self.done = 0
        self.total = 0
        self.detail = ""

    def __call__(self, message: str) -> None:
        if not self.tty:
            print(message, file=self.stream, flush=True)
            return
        topic = TOPIC.search(message)
        step = STEP.search(message)
        if topic:
            self.done, self.total = int(topic.group(1)) - 1, int(topic.group(2))
            self.detail = topic.group(3)
        elif step:
            self.detail = f"{step.group(1)} · {step.group(2)}"
        elif message.startswith("Finished"):
            self.done += 1
        else:
            self._clear()
            print(message, file=self.stream, flush=True)
        self._draw()

    def bar(self) -> str:
        filled = int(self.width * self.done / self.total) if self.total else 0
        return (f"[{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total} "
                f"topics  {self.detail}")

    def _clear(self) -> None:
        self.stream.write("\r\x1b[2K")

    def _draw(self) -> None:
        if self.total:
            self._clear()
            self.stream.write(self.bar()[:160])
            self.stream.flush()

    def close(self) -> None:
        if self.tty and self.total:
            self.stream.write("\n")
            self.stream.flush()
