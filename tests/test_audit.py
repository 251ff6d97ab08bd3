"""The audit's server (compressed as a host serves the site) and its choice of topic page."""

from __future__ import annotations

import functools
import gzip
import http.server
import threading
import urllib.request

import pytest

from build_hooks.tools.audit import AuditError, _CompressingHandler, heaviest_topic_page


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
