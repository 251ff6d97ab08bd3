"""Summary statistics and the significance test behind every "faster" on the site.

Pure Python, so rendering (which runs in the MkDocs process on every build) needs no NumPy or
SciPy. The Mann-Whitney U test is what asv uses to decide whether two benchmark results differ;
the exact distribution is used when there are no ties and the samples are small, otherwise the
normal approximation with tie and continuity corrections (as scipy.stats.mannwhitneyu).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

EXACT_LIMIT = 10_000  # n1 * n2 up to which the exact distribution is computed


def quantile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between order statistics (NumPy's default method)."""
    if not values:
        raise ValueError("quantile of no values")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: Sequence[float]) -> float:
    return quantile(values, 0.5)


def iqr(values: Sequence[float]) -> float:
    return quantile(values, 0.75) - quantile(values, 0.25)


def is_noisy(values: Sequence[float], threshold: float) -> bool:
    """True when the spread (IQR) exceeds `threshold` times the median."""
    middle = median(values)
    return middle <= 0 or iqr(values) / middle > threshold


def _ranks(values: list[float]) -> tuple[list[float], list[int]]:
    """Average ranks (1-based) and the sizes of the groups of tied values."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    ties = []
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for position in range(start, end + 1):
            ranks[order[position]] = (start + end) / 2 + 1
        if end > start:
            ties.append(end - start + 1)
        start = end + 1
    return ranks, ties


def _exact_counts(n1: int, n2: int) -> list[int]:
    """Number of arrangements giving each U = 0..n1*n2: the coefficients of the Gaussian
    binomial coefficient [n1+n2 choose n1] in q, built as prod (1 - q^(n2+i)) / (1 - q^i)."""
    size = n1 * n2 + 1
    counts = [1] + [0] * (size - 1)
    for i in range(1, n1 + 1):
        shift = n2 + i
        for k in range(size - 1, shift - 1, -1):
            counts[k] -= counts[k - shift]
        for k in range(i, size):
            counts[k] += counts[k - i]
    return counts


def mann_whitney_u(a: Sequence[float], b: Sequence[float]) -> tuple[float, float]:
    """Two-sided Mann-Whitney U test: (U statistic of `a`, p-value)."""
    n1, n2 = len(a), len(b)
    if n1 == 0 or n2 == 0:
        raise ValueError("the Mann-Whitney U test needs samples on both sides")
    ranks, ties = _ranks([*a, *b])
    u1 = sum(ranks[:n1]) - n1 * (n1 + 1) / 2
    u_big = max(u1, n1 * n2 - u1)
    if not ties and n1 * n2 <= EXACT_LIMIT:
        counts = _exact_counts(n1, n2)
        total = sum(counts)
        tail = sum(counts[math.ceil(u_big):])
        return u1, min(1.0, 2 * tail / total)
    n = n1 + n2
    tie_term = sum(t**3 - t for t in ties) / (n * (n - 1))
    sigma = math.sqrt(n1 * n2 / 12 * ((n + 1) - tie_term))
    if sigma == 0:
        return u1, 1.0
    z = (u_big - n1 * n2 / 2 - 0.5) / sigma
    return u1, min(1.0, math.erfc(z / math.sqrt(2)))


@dataclass(frozen=True)
class Verdict:
    """Which of two timings is faster, or that the data cannot tell them apart."""

    faster: str | None
    """Name of the faster side, or None when the two are level."""
    ratio: float
    """Median of the slower side divided by the median of the faster (>= 1)."""
    p_value: float | None
    reason: str

    @property
    def level(self) -> bool:
        return self.faster is None


def compare(name_a: str, samples_a: Sequence[float], name_b: str, samples_b: Sequence[float],
            alpha: float = 0.05, min_speedup: float = 1.05) -> Verdict:
    """Name a faster side only when the difference is significant AND at least `min_speedup`.

    Raises ValueError when either side has no samples (there is nothing to compare).
    """
    median_a, median_b = median(samples_a), median(samples_b)
    ratio = max(median_a, median_b) / min(median_a, median_b)
    faster = name_a if median_a < median_b else name_b
    _, p_value = mann_whitney_u(samples_a, samples_b)
    if p_value >= alpha:
        return Verdict(None, ratio, p_value, f"not significant (p = {p_value:.2g})")
    if ratio < min_speedup:
        return Verdict(None, ratio, p_value,
                       f"under {min_speedup:g}× apart (p = {p_value:.2g})")
    return Verdict(faster, ratio, p_value, f"significant (p = {p_value:.2g})")
