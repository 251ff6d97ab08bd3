"""The audit's server (compressed as a host serves the site) and its choice of topic page."""

from __future__ import annotations

import functools
import gzip
import http.server
import threading
import urllib.request

import pytest

from build_hooks.tools.audit import (
    MOBILE_CALIBRATED,
    AuditError,
    _CompressingHandler,
    calibrated_slowdown,
    format_report,
    heaviest_topic_page,
)


@pytest.fixture
def served(tmp_path):
    (tmp_path / "index.html").write_text("<p>" + "home " * 2000 + "</p>")
    (tmp_path / "logo.png").write_bytes(b"\x89PNG not text")
    handler = functools.partial(_CompressingHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def _get(url: str, encoding: str | None) -> tuple[dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Accept-Encoding": encoding} if encoding
                                     else {})
    with urllib.request.urlopen(request) as response:
        return dict(response.headers), response.read()


def test_text_is_gzipped_for_a_browser_that_accepts_it(served, tmp_path):
    headers, body = _get(served, "gzip, deflate, br")
    assert headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == (tmp_path / "index.html").read_bytes()
    assert len(body) < (tmp_path / "index.html").stat().st_size / 10


def test_other_files_and_other_clients_get_the_file_as_it_is(served, tmp_path):
    headers, body = _get(served, None)
    assert "Content-Encoding" not in headers and body == (tmp_path / "index.html").read_bytes()
    headers, body = _get(served + "logo.png", "gzip")
    assert "Content-Encoding" not in headers and body == b"\x89PNG not text"


def test_the_heaviest_topic_page_is_audited(tmp_path):
    for name, size in (("small", 10), ("large", 5000), ("middle", 300)):
        (tmp_path / "topics" / name).mkdir(parents=True)
        (tmp_path / "topics" / name / "index.html").write_text("x" * size)
    assert heaviest_topic_page(tmp_path) == "topics/large/"
    with pytest.raises(AuditError, match="no topic page"):
        heaviest_topic_page(tmp_path / "empty")


@pytest.mark.parametrize("index, slowdown", [
    (1533, 4.0),   # the host the mobile preset's 4x is meant for
    (2000, 6.0), (1300, 3.0), (1050, 2.5), (800, 2.0), (475, 1.5), (150, 1.0),
    (100, 1.0),    # slower than the emulated phone: no throttling, not a speed-up
])
def test_the_mobile_slowdown_is_calibrated_to_the_host_as_lighthouse_documents(index, slowdown):
    assert calibrated_slowdown(index) == pytest.approx(slowdown, abs=0.01)


def test_the_report_shows_both_mobile_runs_and_checks_the_calibrated_one():
    scores = {"performance": 0.95, "accessibility": 1, "best-practices": 1, "seo": 1}
    result = {"tool": "lighthouse", "measured_at": "now", "target": 0.98,
              "mobile_performance_target": 0.9,
              "scores": {"/": {"desktop": scores, "mobile": {**scores, "performance": 0.7},
                               MOBILE_CALIBRATED: scores}},
              "audits_below_1": {"/": []},
              "host": {"/": {"benchmark_index": 700.0, "cpu_slowdown": 1.85}},
              "meets_target": False, "meets_mobile_target": True}
    text = format_report(result)
    assert "benchmarkIndex 700, so mobile, calibrated slows the CPU 1.85x" in text
    assert "mobile, calibrated" in text and "0.70" in text
    assert "meets the mobile targets (mobile, calibrated)" in text
