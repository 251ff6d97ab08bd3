"""`make audit`: Lighthouse scores of the built site, home page and heaviest topic page.

Runs npm's lighthouse@12.2.3 (installed once into .cache/audit) against a Chromium or Chrome,
headless, on the site served from 127.0.0.1. The server compresses text (HTML, CSS, JS, JSON,
SVG) with gzip when the browser accepts it, as the hosts that serve the site do (GitHub Pages
among them): an uncompressed local server would charge the mobile preset's simulated slow 4G
for four times the bytes a reader downloads. The target is 0.98 or more in all four categories
with the desktop preset, and with the mobile preset 0.90 or more in performance and 0.98 in the
other three. The topic page audited is the one with the most HTML (the heaviest to load).
"""

from __future__ import annotations

import functools
import gzip
import http.server
import io
import json
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

from build_hooks.core import Log, host
from build_hooks.core.jsonfile import write_versioned
from build_hooks.records.archive import machine_dir

LIGHTHOUSE = "lighthouse@12.2.3"
CHROME_FLAGS = ("--headless=new --no-sandbox --disable-gpu --disable-quic --no-first-run "
                "--disable-background-networking --disable-component-update --disable-sync")
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
TARGET = 0.98
MOBILE_PERFORMANCE_TARGET = 0.90
COMPRESSED_TYPES = ("text/", "application/javascript", "application/json", "image/svg+xml")
AUDIT_FORMAT = "jax-vs-pytorch/audit"


class AuditError(Exception):
    pass


def _lighthouse(project_dir: Path, log: Log) -> Path:
    prefix = project_dir / ".cache" / "audit"
    binary = prefix / "node_modules" / ".bin" / "lighthouse"
    if not binary.exists():
        if shutil.which("npm") is None:
            raise AuditError("npm is not installed; install Node.js 20 and npm, then run "
                             "`make audit` again")
        log(f"Installing {LIGHTHOUSE} into {prefix}")
        prefix.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--prefix", str(prefix), "--no-audit", "--no-fund",
                        LIGHTHOUSE], check=True, capture_output=True, text=True)
    return binary


class _CompressingHandler(http.server.SimpleHTTPRequestHandler):
    """Static files, text gzip-compressed for a client that accepts it, as a host serves them."""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def send_head(self) -> Any:
        path = self.translate_path(self.path)
        if os.path.isdir(path):
            path = os.path.join(path, "index.html")
        content_type = self.guess_type(path)
        if not (os.path.isfile(path) and content_type.startswith(COMPRESSED_TYPES) and
                "gzip" in self.headers.get("Accept-Encoding", "")):
            return super().send_head()
        body = gzip.compress(Path(path).read_bytes(), compresslevel=6)
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Vary", "Accept-Encoding")
        self.end_headers()
        return io.BytesIO(body)


def heaviest_topic_page(site_dir: Path) -> str:
    """The topic page with the most HTML, as a path under the site ("topics/name/")."""
    pages = sorted((site_dir / "topics").glob("*/index.html"), key=lambda p: p.stat().st_size)
    if not pages:
        raise AuditError(f"{site_dir / 'topics'} holds no topic page; build the site first")
    return f"topics/{pages[-1].parent.name}/"


def run_audit(project_dir: Path, site_dir: Path, log: Log) -> dict[str, Any]:
    if not (site_dir / "index.html").exists():
        raise AuditError(f"{site_dir} has no built site; run `make site` first")
    chromium = host.find_chromium()
    if chromium is None:
        raise AuditError("no Chromium or Chrome found (CHROME_PATH, or one of "
                         f"{', '.join(host.BROWSERS)} on the PATH); install it with "
                         "`apt-get install chromium`")
    binary = _lighthouse(project_dir, log)
    pages = ("", heaviest_topic_page(site_dir))
    handler = functools.partial(_CompressingHandler, directory=str(site_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    scores: dict[str, dict[str, dict[str, float]]] = {}
    failing: dict[str, list[str]] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="jax-vs-pytorch-audit-") as scratch:
            for page in pages:
                for preset in ("desktop", "mobile"):
                    log(f"Lighthouse, {preset} preset: /{page}")
                    report_path = Path(scratch) / "report.json"
                    command = [str(binary), base + page, "--quiet", "--output=json",
                               f"--output-path={report_path}", f"--chrome-flags={CHROME_FLAGS}"]
                    if preset == "desktop":
                        command.append("--preset=desktop")
                    process = subprocess.run(command, env={**os.environ, "CHROME_PATH": chromium},
                                             capture_output=True, text=True, timeout=300)
                    if process.returncode != 0 or not report_path.exists():
                        raise AuditError(f"lighthouse failed on /{page}:\n{process.stderr}")
                    report = json.loads(report_path.read_text())
                    categories = report["categories"]
                    scores.setdefault("/" + page, {})[preset] = {
                        name: categories[name]["score"] for name in CATEGORIES}
                    failing.setdefault("/" + page, []).extend(
                        f"{preset}: {audit['id']}" for name in CATEGORIES
                        for ref in categories[name]["auditRefs"]
                        if ref["weight"] > 0 and (audit := report["audits"][ref["id"]])
                        ["score"] is not None and audit["score"] < 1)
    finally:
        server.shutdown()
        server.server_close()
    machine = host.machine()
    result: dict[str, Any] = {
        "tool": LIGHTHOUSE,
        "measured_at": host.now_iso(), "machine_name": host.machine_name(machine),
        "target": TARGET, "mobile_performance_target": MOBILE_PERFORMANCE_TARGET,
        "served": "gzip-compressed text, as a host serves it",
        "scores": scores, "audits_below_1": failing,
        "meets_target": all(score >= TARGET for page in scores.values()
                            for score in page["desktop"].values()),
        "meets_mobile_target": all(
            page["mobile"][name] >= (MOBILE_PERFORMANCE_TARGET if name == "performance"
                                     else TARGET)
            for page in scores.values() for name in CATEGORIES),
    }
    return write_versioned(machine_dir(project_dir, result["machine_name"]) / "audit.json",
                           AUDIT_FORMAT, 1, result)


def format_report(result: dict[str, Any]) -> str:
    lines = [f"Lighthouse ({result['tool']}), {result['measured_at']}",
             f"{'page':<28} {'preset':<8} " + " ".join(f"{c:>15}" for c in CATEGORIES)]
    for page, presets in result["scores"].items():
        for preset, scores in presets.items():
            lines.append(f"{page:<28} {preset:<8} " + " ".join(
                f"{scores[c]:>15.2f}" for c in CATEGORIES))
    for page, audits in result["audits_below_1"].items():
        if audits:
            lines.append(f"  below 1 on {page}: {', '.join(audits)}")
    lines.append(("meets" if result["meets_target"] else "DOES NOT meet") +
                 f" the target of {result['target']} in every category (desktop preset)")
    lines.append(("meets" if result["meets_mobile_target"] else "DOES NOT meet") +
                 f" the mobile targets: performance {result['mobile_performance_target']}, "
                 f"the other categories {result['target']}")
    return "\n".join(lines)
