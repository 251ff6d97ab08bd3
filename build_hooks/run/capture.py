"""Read what a snippet printed, bounded and made readable.

The worker writes raw bytes to files; here they become text that is safe to put on a page: the
size read is capped (head and tail kept, with a note of how much was cut), invalid UTF-8 becomes
replacement characters and ANSI colour codes are removed. HTML is escaped later, by the Markdown
code fence the renderer puts the text in.
"""

from __future__ import annotations

import re
from pathlib import Path

from build_hooks.core.formatting import human_bytes

# CSI sequences (colours, cursor moves), OSC sequences (titles, links) and lone escapes.
ANSI_PATTERN = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-_]")
# Control characters other than tab and newline say nothing to a reader.
CONTROL_PATTERN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean_text(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace")
    text = ANSI_PATTERN.sub("", text.replace("\r\n", "\n"))
    return CONTROL_PATTERN.sub("", text)


def read_capture(path: Path, limit: int) -> str:
    """The text of a capture file, at most about `limit` bytes of it; "" when there is none."""
    try:
        size = path.stat().st_size
    except OSError:
        return ""
    with path.open("rb") as handle:
        if size <= limit:
            return clean_text(handle.read())
        head_size = limit * 3 // 4
        head = handle.read(head_size)
        tail_size = limit - head_size
        handle.seek(size - tail_size)
        tail = handle.read(tail_size)
    cut = size - head_size - tail_size
    note = f"\n[... {human_bytes(cut)} of output cut here; {human_bytes(size)} in all ...]\n"
    return clean_text(head) + note + clean_text(tail)
