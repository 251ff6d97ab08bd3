"""`make audit`: Lighthouse scores of the built site, home page and heaviest topic page.

Runs npm's lighthouse@12.2.3 (installed once into .cache/audit) against a Chromium or Chrome,
headless, on the site served from 127.0.0.1. The server compresses text (HTML, CSS, JS, JSON,
SVG) with gzip when the browser accepts it, as the hosts that serve the site do (GitHub Pages
among them): an uncompressed local server would charge the mobile preset's simulated slow 4G
for four times the bytes a reader downloads. The target is 0.98 or more in all four categories
with the desktop preset, and with the mobile preset 0.90 or more in performance and 0.98 in the
other three. The topic page audited is the one with the most HTML (the heaviest to load).

The mobile preset emulates a mid-tier phone by slowing the host's CPU down four times, a
factor meant for a high-end desktop host; Lighthouse's docs ask to calibrate it on other hosts
("Calibrating the CPU slowdown", docs/throttling.md) from the `benchmarkIndex` each report
measures, with the formula of Lighthouse's CPU slowdown calculator. So each page gets a second
mobile run with the slowdown calibrated to this host, and both are reported: the preset's
score, which moves with the host's speed, and the calibrated one, which the mobile target is
checked against.

One run of Lighthouse moves with whatever else the host is doing, so every page and preset is
run several times (`AUDIT_RUNS`, 5 by default: Lighthouse's docs/variability.md finds the median
of five runs about twice as stable as one) and the run reported is the one Lighthouse's own
`computeMedianRun` would pick (core/lib/median-run.js; the same rule here: closest to the
median first contentful paint and time to interactive). The calibrated slowdown comes from the
median `benchmarkIndex` of the mobile preset's runs. Each run's performance score is kept too,
so the report shows the spread.
"""

from __future__ import annotations

import functools
import gzip
import http.server
import io
import json
import os
import shutil
import statistics
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
MOBILE_CALIBRATED = "mobile, calibrated"
RUNS = 5
"""Lighthouse runs per page and preset (AUDIT_RUNS overrides); the median run is reported."""


class AuditError(Exception):
    pass


def calibrated_slowdown(benchmark_index: float) -> float:
    """The CPU slowdown that emulates Lighthouse's mid-tier phone on a host with this
    `benchmarkIndex`: the formula of Lighthouse's CPU slowdown calculator (1300 -> 3x,
    800 -> 2x, 150 -> 1x, linear between; the preset's 4x is a host near 1533), never below 1
    (no throttling can speed a host up)."""
    if benchmark_index >= 1300:
        return 3 + (benchmark_index - 1300) / 233
    if benchmark_index >= 800:
        return 2 + (benchmark_index - 800) / 500
    return max(1.0, 1 + (benchmark_index - 150) / 650)


def audit_runs() -> int:
    value = os.environ.get("AUDIT_RUNS", str(RUNS))
    try:
        runs = int(value)
    except ValueError:
        runs = 0
    if runs < 1:
        raise AuditError(f"AUDIT_RUNS={value!r} is not a number of runs; give a whole number "
                         f"of 1 or more (the default is {RUNS})")
    return runs


def valid_runs(reports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The runs with a first contentful paint and a time to interactive (Lighthouse's
    filterToValidRuns): a run whose page never painted in time (NO_FCP) has neither."""
    return [report for report in reports
            if all(isinstance((report["audits"].get(name) or {}).get("numericValue"),
                              (int, float))
                   for name in ("first-contentful-paint", "interactive"))]


def median_run(reports: list[dict[str, Any]]) -> int:
    """The index of the run Lighthouse's computeMedianRun (core/lib/median-run.js) picks among
    valid runs: the one closest, in Euclidean distance, to the median first contentful paint
    and the median time to interactive, ties going to the lower time to interactive, then to
    the earlier run. Lighthouse prefers this to the median score, which a single metric's
    outlier can move."""
    if not reports:
        raise AuditError("no Lighthouse run to choose from")
    if len(valid_runs(reports)) != len(reports):
        raise AuditError("a Lighthouse run has no first-contentful-paint or interactive value; "
                         "choose among valid_runs(reports)")
    paints = [float(report["audits"]["first-contentful-paint"]["numericValue"])
              for report in reports]
    interactive = [float(report["audits"]["interactive"]["numericValue"]) for report in reports]
    paint_median, interactive_median = statistics.median(paints), statistics.median(interactive)
    return min(range(len(reports)), key=lambda i: (
        (paint_median - paints[i]) ** 2 + (interactive_median - interactive[i]) ** 2,
        interactive[i]))


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
    hosts: dict[str, dict[str, float]] = {}
    runs = audit_runs()
    spread: dict[str, dict[str, list[float]]] = {}
    dropped: dict[str, dict[str, list[str]]] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="jax-vs-pytorch-audit-") as scratch:
            for page in pages:
                for preset in ("desktop", "mobile", MOBILE_CALIBRATED):
                    extra: list[str] = []
                    if preset == "desktop":
                        extra = ["--preset=desktop"]
                    elif preset == MOBILE_CALIBRATED:
                        slowdown = hosts["/" + page]["cpu_slowdown"]
                        extra = [f"--throttling.cpuSlowdownMultiplier={slowdown:.2f}"]
                    reports = []
                    for run in range(runs):
                        log(f"Lighthouse, {preset} preset: /{page} (run {run + 1}/{runs})")
                        reports.append(_lighthouse_report(binary, chromium, base + page, extra,
                                                          Path(scratch) / "report.json"))
                    valid = valid_runs(reports)
                    kept = {id(report) for report in valid}
                    if not valid:
                        errors = sorted({str((r.get("runtimeError") or {}).get("message"))
                                         for r in reports})
                        raise AuditError(f"no Lighthouse run of /{page} ({preset}) measured a "
                                         f"first paint and time to interactive: {errors}; "
                                         "check that the page loads, then run `make audit` "
                                         "again")
                    if len(valid) < len(reports):
                        dropped.setdefault("/" + page, {})[preset] = [
                            str((r.get("runtimeError") or {}).get("message"))
                            for r in reports if id(r) not in kept]
                    report = valid[median_run(valid)]
                    if preset == "mobile":
                        index = statistics.median(float(r["environment"]["benchmarkIndex"])
                                                  for r in reports)
                        hosts["/" + page] = {"benchmark_index": index,
                                             "cpu_slowdown": round(calibrated_slowdown(index), 2)}
                    spread.setdefault("/" + page, {})[preset] = [
                        r["categories"]["performance"]["score"] for r in valid]
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
        "runs": runs, "scores": scores, "audits_below_1": failing,
        # Per page and preset: the performance score of every run, the median run's first.
        "performance_runs": spread,
        # Runs left out of the median (no first paint or time to interactive), with why.
        "dropped_runs": dropped,
        # Per page: the host's benchmarkIndex in its mobile run, and the slowdown from it.
        "host": hosts,
        "meets_target": all(score >= TARGET for page in scores.values()
                            for score in page["desktop"].values()),
        "meets_mobile_target": all(
            page[MOBILE_CALIBRATED][name] >= (MOBILE_PERFORMANCE_TARGET
                                              if name == "performance" else TARGET)
            for page in scores.values() for name in CATEGORIES),
    }
    return write_versioned(machine_dir(project_dir, result["machine_name"]) / "audit.json",
                           AUDIT_FORMAT, 3, result)


def _lighthouse_report(binary: Path, chromium: str, url: str, extra: list[str],
                       report_path: Path) -> dict[str, Any]:
    command = [str(binary), url, "--quiet", "--output=json", f"--output-path={report_path}",
               f"--chrome-flags={CHROME_FLAGS}", *extra]
    process = subprocess.run(command, env={**os.environ, "CHROME_PATH": chromium},
                             capture_output=True, text=True, timeout=300)
    if process.returncode != 0 or not report_path.exists():
        raise AuditError(f"lighthouse failed on {url}:\n{process.stderr}")
    report: dict[str, Any] = json.loads(report_path.read_text())
    report_path.unlink()
    return report


def format_report(result: dict[str, Any]) -> str:
    runs = result.get("runs", 1)
    lines = [f"Lighthouse ({result['tool']}), {result['measured_at']}; each row is the median "
             f"of {runs} run{'s' if runs != 1 else ''} (Lighthouse's computeMedianRun)",
             f"{'page':<28} {'preset':<18} " + " ".join(f"{c:>15}" for c in CATEGORIES)]
    for page, presets in result["scores"].items():
        for preset, scores in presets.items():
            lines.append(f"{page:<28} {preset:<18} " + " ".join(
                f"{scores[c]:>15.2f}" for c in CATEGORIES))
    for page, presets in result.get("performance_runs", {}).items():
        for preset, values in presets.items():
            if len(values) > 1:
                lines.append(f"  {page} {preset}: performance over the runs "
                             f"{min(values):.2f}-{max(values):.2f}")
    for page, presets in result.get("dropped_runs", {}).items():
        for preset, reasons in presets.items():
            lines.append(f"  {page} {preset}: {len(reasons)} run(s) left out of the median "
                         f"(no first paint or time to interactive): {'; '.join(reasons)}")
    for page, audits in result["audits_below_1"].items():
        if audits:
            lines.append(f"  below 1 on {page}: {', '.join(audits)}")
    for page, measured in result.get("host", {}).items():
        lines.append(f"  {page}: this host's benchmarkIndex {measured['benchmark_index']:.0f}, "
                     f"so {MOBILE_CALIBRATED} slows the CPU {measured['cpu_slowdown']:.2f}x "
                     "(the mobile preset: 4x, meant for an index near 1533)")
    lines.append(("meets" if result["meets_target"] else "DOES NOT meet") +
                 f" the target of {result['target']} in every category (desktop preset)")
    lines.append(("meets" if result["meets_mobile_target"] else "DOES NOT meet") +
                 f" the mobile targets ({MOBILE_CALIBRATED}): performance "
                 f"{result['mobile_performance_target']}, the other categories "
                 f"{result['target']}")
    return "\n".join(lines)
