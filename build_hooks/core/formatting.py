"""How numbers read on the pages and in the terminal: times, throughput, ratios, sizes, dates.

A value that is missing or damaged (not a finite non-negative number) reads as an em dash.
"""

from __future__ import annotations

import math
from typing import Any

MISSING = "—"


def finite_number(value: Any) -> float | None:
    """A finite, non-negative number, or None for anything else (missing or damaged data)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) and value >= 0 else None


def format_seconds(seconds: float | None) -> str:
    """Three significant digits with a unit: 812 ns, 4.17 ms, 1.20 s."""
    seconds = finite_number(seconds)
    if seconds is None:
        return MISSING
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if seconds >= scale or unit == "ns":
            value = seconds / scale
            digits = 0 if value >= 100 else 1 if value >= 10 else 2
            return f"{value:.{digits}f} {unit}"
    return MISSING


def format_timestamp(iso: str | None) -> str:
    """2026-11-25T12:51:37+00:00 -> 2026-11-25 12:51 UTC."""
    if not isinstance(iso, str) or len(iso) < 16:
        return MISSING
    return iso[:16].replace("T", " ") + " UTC"


def format_gflops(gflops: float | None) -> str:
    """Three significant digits: 0.00148, 12.3, 98.2, 1234."""
    gflops = finite_number(gflops)
    if gflops is None:
        return MISSING
    return f"{gflops:.0f}" if gflops >= 1000 else f"{gflops:.3g}"


def format_ratio(ratio: float) -> str:
    return f"{ratio:.2f}×" if ratio < 10 else f"{ratio:.0f}×"


def human_bytes(count: int) -> str:
    size = float(count)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{int(size)} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{count} bytes"


def format_interval(low: float, high: float) -> str:
    """A ratio's confidence interval: 2.71-3.10×, 12-15×."""
    def one(value: float) -> str:
        return f"{value:.2f}" if value < 10 else f"{value:.0f}"

    return f"{one(low)}–{one(high)}×"
