"""Summary statistics, and the interval behind every "faster" on the site.

Pure Python, so rendering (which runs in the MkDocs process on every build) needs no NumPy or
SciPy. A verdict comes from a confidence interval of the ratio of two timings: the
distribution-free interval that inverts the Mann-Whitney U test (the test asv uses to decide
whether two benchmark results differ), for a shift of log-times. The test's p-value is kept
beside it: the exact distribution when there are no ties and the samples are small, otherwise
the normal approximation with tie and continuity corrections (as scipy.stats.mannwhitneyu).
"""

from __future__ import annotations

import functools
import math
import statistics
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


@functools.lru_cache(maxsize=64)
def _exact_counts(n1: int, n2: int) -> tuple[int, ...]:
    """Number of arrangements giving each U = 0..n1*n2: the coefficients of the Gaussian
    binomial coefficient [n1+n2 choose n1] in q, built as prod (1 - q^(n2+i)) / (1 - q^i).
    Kept per (n1, n2): a build asks for the same few sample counts again and again."""
    size = n1 * n2 + 1
    counts = [1] + [0] * (size - 1)
    for i in range(1, n1 + 1):
        shift = n2 + i
        for k in range(size - 1, shift - 1, -1):
            counts[k] -= counts[k - shift]
        for k in range(i, size):
            counts[k] += counts[k - i]
    return tuple(counts)


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
    """Which of two timings is faster, that they are level, or that the data cannot tell."""

    outcome: str
    """"faster" (one side, by at least the threshold), "level" (within it) or "inconclusive"."""
    faster: str | None
    """Name of the faster side when `outcome` is "faster", else None."""
    leader: str
    """The side with the lower typical time, whatever the outcome (the ratio's orientation)."""
    ratio: float
    """How many times longer the other side takes than `leader` (>= 1)."""
    ratio_low: float
    ratio_high: float
    """The confidence interval of `ratio`, in the same orientation (it may reach below 1)."""
    p_value: float | None
    reason: str

    @property
    def level(self) -> bool:
        return self.faster is None


def compare(name_a: str, samples_a: Sequence[float], name_b: str, samples_b: Sequence[float],
            alpha: float = 0.05, min_speedup: float = 1.05) -> Verdict:
    """A verdict from the (1 - alpha) confidence interval of the ratio of the two timings:

    - "faster" only when the whole interval lies beyond `min_speedup` on one side;
    - "level" when the whole interval lies within 1/min_speedup .. min_speedup;
    - "inconclusive" otherwise (the interval straddles the threshold).

    Raises ValueError when either side has no samples (there is nothing to compare).
    """
    interval = ratio_interval(samples_a, samples_b, 1 - alpha)  # time of a over time of b
    _, p_value = mann_whitney_u(samples_a, samples_b)
    if interval.estimate > 1:  # b is the quicker side: orient the ratio as b's lead
        leader, ratio, low, high = name_b, interval.estimate, interval.low, interval.high
    else:
        leader, ratio = name_a, 1 / interval.estimate
        low = 1 / interval.high
        high = 1 / interval.low if interval.low > 0 else math.inf
    if math.isinf(high):
        return Verdict("inconclusive", None, leader, ratio, low, high, p_value,
                       f"too few samples for a {confidence_text(1 - alpha)}")
    span = f"{confidence_text(1 - alpha)} {low:.3g}-{high:.3g}×"
    if low >= min_speedup:
        return Verdict("faster", leader, leader, ratio, low, high, p_value,
                       f"{span}, all of it beyond {min_speedup:g}×")
    if high <= min_speedup and low >= 1 / min_speedup:
        return Verdict("level", None, leader, ratio, low, high, p_value,
                       f"{span}, all of it within {min_speedup:g}×")
    return Verdict("inconclusive", None, leader, ratio, low, high, p_value,
                   f"{span} straddles {min_speedup:g}×")


def confidence_text(level: float) -> str:
    return f"{level * 100:.0f}% CI"


@dataclass(frozen=True)
class RatioInterval:
    """How many times longer one timing takes than another, with a confidence interval."""

    estimate: float
    """The typical ratio a/b: the Hodges-Lehmann estimate on the log scale (the median of every
    log(a_i) - log(b_j)), exponentiated."""
    low: float
    high: float
    """0 and infinity when the samples are too few for an interval at this confidence."""
    confidence: float


@functools.cache
def _cut(n1: int, n2: int, alpha: float) -> int | None:
    """How many of the n1*n2 ordered pairwise differences to leave out at each end for a
    two-sided interval of level 1 - alpha: the largest c with P(U <= c) <= alpha / 2 under the
    null distribution of the Mann-Whitney U statistic (exact for small samples; R's
    wilcox.test(conf.int=TRUE) makes the same cut). None when no such c exists: then even the
    whole range of differences covers less than 1 - alpha, and the interval is unbounded."""
    if n1 * n2 <= 400:
        counts = _exact_counts(n1, n2)
        total = sum(counts)
        below, cumulative = 0, 0  # below: how many values of U have P(U <= value) <= alpha/2
        while cumulative + counts[below] <= alpha / 2 * total:
            cumulative += counts[below]
            below += 1
        return below - 1 if below else None
    z = statistics.NormalDist().inv_cdf(1 - alpha / 2)
    cut = math.floor(n1 * n2 / 2 - z * math.sqrt(n1 * n2 * (n1 + n2 + 1) / 12))
    return cut if cut >= 0 else None


def ratio_interval(a: Sequence[float], b: Sequence[float],
                   confidence: float = 0.95) -> RatioInterval:
    """The ratio of two timings' typical values and its distribution-free confidence interval:
    the interval the Mann-Whitney test inverts, for a shift of log-times (Bauer 1972; Hollander
    and Wolfe, Nonparametric Statistical Methods, 4.3). Needs positive samples on both sides."""
    if not a or not b:
        raise ValueError("a ratio needs samples on both sides")
    if min(a) <= 0 or min(b) <= 0:
        raise ValueError("a ratio of timings needs positive samples")
    log_b = [math.log(y) for y in b]
    differences = sorted(math.log(x) - y for x in a for y in log_b)
    estimate = math.exp(median(differences))
    k = _cut(len(a), len(b), round(1 - confidence, 12))
    if k is None:  # too few samples for this confidence: the interval is unbounded
        return RatioInterval(estimate, 0.0, math.inf, confidence)
    last = len(differences) - 1
    return RatioInterval(estimate, math.exp(differences[k]), math.exp(differences[last - k]),
                         confidence)
