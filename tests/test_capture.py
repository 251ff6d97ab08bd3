"""build_hooks.run.capture: reading what a snippet printed, bounded and cleaned."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from build_hooks.core.formatting import human_bytes
from build_hooks.run.capture import clean_text, read_capture

NOTE_PATTERN = re.compile(r"\n\[\.\.\. (.+?) of output cut here; (.+?) in all \.\.\.\]\n")


def write(tmp_path: Path, data: bytes, name: str = "out.stdout") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_missing_file_reads_as_empty_string(tmp_path: Path) -> None:
    assert read_capture(tmp_path / "never-written.stdout", limit=1024) == ""


def test_empty_file_reads_as_empty_string(tmp_path: Path) -> None:
    assert read_capture(write(tmp_path, b""), limit=1024) == ""


def test_small_file_round_trips(tmp_path: Path) -> None:
    text = "hello\n\tindented line\nünïcødé ✓ 数字\n"
    assert read_capture(write(tmp_path, text.encode()), limit=1024) == text


def test_file_exactly_at_limit_is_not_cut(tmp_path: Path) -> None:
    data = b"x" * 100
    assert read_capture(write(tmp_path, data), limit=100) == "x" * 100


def test_invalid_utf8_becomes_replacement_character(tmp_path: Path) -> None:
    result = read_capture(write(tmp_path, b"ok \xff\xfe end\n"), limit=1024)
    assert result == "ok \ufffd\ufffd end\n"


def test_ansi_colour_codes_are_removed(tmp_path: Path) -> None:
    data = b"\x1b[31mred\x1b[0m and \x1b[1;32mbold green\x1b[m\n"
    assert read_capture(write(tmp_path, data), limit=1024) == "red and bold green\n"


def test_osc_sequences_are_removed(tmp_path: Path) -> None:
    title = b"\x1b]0;window title\x07after title\n"
    link = b"\x1b]8;;https://example.org\x1b\\link text\x1b]8;;\x1b\\\n"
    result = read_capture(write(tmp_path, title + link), limit=1024)
    assert result == "after title\nlink text\n"
    assert "\x1b" not in result
    assert "example.org" not in result


def test_crlf_becomes_lf(tmp_path: Path) -> None:
    result = read_capture(write(tmp_path, b"one\r\ntwo\r\nthree"), limit=1024)
    assert result == "one\ntwo\nthree"


def test_other_control_characters_are_removed_but_tab_and_newline_kept() -> None:
    assert clean_text(b"a\x00b\x07c\td\ne\x7f") == "abc\td\ne"


def test_large_file_is_cut_to_head_and_tail_with_a_note(tmp_path: Path) -> None:
    limit = 1000
    head = b"HEAD-START " + b"h" * 4000
    middle = b"m" * 5000
    tail = b"t" * 4000 + b" TAIL-END\n"
    data = head + middle + tail
    result = read_capture(write(tmp_path, data), limit=limit)

    match = NOTE_PATTERN.search(result)
    assert match is not None, result[:200]
    note = match.group(0)
    assert len(result) <= limit + len(note)
    assert len(result) < len(data)
    assert result.startswith("HEAD-START ")
    assert result.endswith(" TAIL-END\n")

    head_size = limit * 3 // 4
    tail_size = limit - head_size
    cut = len(data) - head_size - tail_size
    assert match.group(1) == human_bytes(cut)
    assert match.group(2) == human_bytes(len(data))
    before, after = result.split(note)
    assert before.encode() == data[:head_size]
    assert after.encode() == data[-tail_size:]


def test_cut_note_uses_bytes_for_small_cuts(tmp_path: Path) -> None:
    data = bytes(range(ord("a"), ord("a") + 26)) * 4  # 104 bytes
    result = read_capture(write(tmp_path, data), limit=100)
    assert "[... 4 bytes of output cut here; 104 bytes in all ...]" in result


def test_large_file_is_cleaned_on_both_sides_of_the_cut(tmp_path: Path) -> None:
    data = b"\x1b[31mred\x1b[0m\r\n" + b"." * 10_000 + b"\xff end\r\n"
    result = read_capture(write(tmp_path, data), limit=200)
    assert result.startswith("red\n")
    assert result.endswith("\ufffd end\n")
    assert "\x1b" not in result
    assert "\r" not in result


@pytest.mark.parametrize(("count", "expected"), [
    (0, "0 bytes"),
    (1023, "1023 bytes"),
    (1024, "1.0 KiB"),
    (1536, "1.5 KiB"),
    (5 * 1024 * 1024, "5.0 MiB"),
    (3 * 1024**3, "3.0 GiB"),
    (2048 * 1024**3, "2048.0 GiB"),
])
def test_human_bytes(count: int, expected: str) -> None:
    assert human_bytes(count) == expected
