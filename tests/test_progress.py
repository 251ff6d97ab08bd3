"""The command line's progress: a bar redrawn in place on a terminal, plain lines otherwise."""

from __future__ import annotations

import io

from build_hooks.tools.progress import ProgressLog


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_stream_gets_every_message_as_a_line():
    stream = io.StringIO()
    log = ProgressLog(stream)
    log("Measuring topic 1/2 'matmul' (not measured yet)")
    log("Finished 'matmul' in 3.0 s")
    assert stream.getvalue().splitlines() == [
        "Measuring topic 1/2 'matmul' (not measured yet)", "Finished 'matmul' in 3.0 s"]


def test_terminal_gets_a_bar_with_the_topic_framework_and_count():
    stream = Terminal()
    log = ProgressLog(stream, width=10)
    log("Measuring topic 1/4 'matmul' (not measured yet)")
    assert log.bar() == "[..........] 0/4 topics  matmul"
    log("Running matmul (1/4) · JAX · n=128: setup, first calls, calibration")
    assert log.bar() == "[..........] 0/4 topics  matmul · JAX · n=128: setup, first calls, " \
                        "calibration"
    log("Finished 'matmul' in 2.0 s")
    log("Measuring topic 2/4 'first_steps' (refresh requested)")
    assert log.bar().startswith("[##........] 1/4 topics  first_steps")
    log("Starting the PyTorch worker (imports pytorch once)")  # other messages: printed above
    log.close()
    output = stream.getvalue()
    assert "\r\x1b[2K" in output  # redrawn in place
    assert "Starting the PyTorch worker (imports pytorch once)\n" in output
    assert output.endswith("\n")
