"""build_hooks.core.stats: quantiles, noise flag, Mann-Whitney U (checked with SciPy), verdicts."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from scipy import stats as scipy_stats

from build_hooks.core import stats
from build_hooks.core.stats import (
    EXACT_LIMIT,
    Verdict,
    compare,
    iqr,
    is_noisy,
    mann_whitney_u,
    median,
    ratio_interval,
)


def random_floats(rng: random.Random, count: int, low: float = 0.0, high: float = 1.0
                  ) -> list[float]:
    return [rng.uniform(low, high) for _ in range(count)]


# --- quantile, median, iqr ----------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("q", [0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0])
def test_quantile_matches_numpy_linear_method(seed: int, q: float) -> None:
    rng = random.Random(seed)
    values = random_floats(rng, rng.randint(1, 40), -5.0, 5.0)
    assert stats.quantile(values, q) == pytest.approx(float(np.quantile(values, q)),
                                                      rel=1e-12, abs=1e-12)


def test_quantile_does_not_depend_on_input_order() -> None:
    values = [5.0, 1.0, 4.0, 2.0, 3.0]
    assert stats.quantile(values, 0.25) == 2.0
    assert stats.quantile(list(reversed(values)), 0.25) == 2.0


def test_quantile_interpolates_between_order_statistics() -> None:
    assert stats.quantile([0.0, 10.0], 0.3) == pytest.approx(3.0)
    assert stats.quantile([1.0, 2.0, 3.0, 4.0], 0.5) == pytest.approx(2.5)


def test_quantile_of_a_single_value_is_that_value() -> None:
    for q in (0.0, 0.5, 1.0):
        assert stats.quantile([7.5], q) == 7.5


def test_median_and_iqr_match_numpy() -> None:
    rng = random.Random(42)
    values = random_floats(rng, 17, 1.0, 2.0)
    assert median(values) == pytest.approx(float(np.median(values)), rel=1e-12)
    q75, q25 = np.quantile(values, [0.75, 0.25])
    assert iqr(values) == pytest.approx(float(q75 - q25), rel=1e-12)


def test_empty_values_raise_value_error() -> None:
    with pytest.raises(ValueError, match="no values"):
        stats.quantile([], 0.5)
    with pytest.raises(ValueError):
        median([])
    with pytest.raises(ValueError):
        iqr([])


# --- is_noisy -----------------------------------------------------------------------------------

def test_is_noisy_false_when_spread_is_below_threshold() -> None:
    # median 1.0, IQR 0.1 -> 10 % spread
    values = [0.9, 0.95, 1.0, 1.05, 1.1]
    assert iqr(values) == pytest.approx(0.1)
    assert is_noisy(values, threshold=0.11) is False


def test_is_noisy_true_when_spread_is_above_threshold() -> None:
    values = [0.9, 0.95, 1.0, 1.05, 1.1]
    assert is_noisy(values, threshold=0.09) is True


def test_is_noisy_for_identical_samples_is_false() -> None:
    assert is_noisy([2.0] * 6, threshold=0.0) is False


def test_is_noisy_true_when_median_is_not_positive() -> None:
    assert is_noisy([0.0, 0.0, 0.0], threshold=10.0) is True


# --- Mann-Whitney U -----------------------------------------------------------------------------

SMALL_CASES = [(seed, n1, n2) for seed in range(4) for n1, n2 in
               [(3, 3), (3, 7), (5, 5), (4, 9), (8, 6), (10, 10), (12, 3), (12, 12)]]


@pytest.mark.parametrize(("seed", "n1", "n2"), SMALL_CASES)
def test_mann_whitney_exact_matches_scipy_without_ties(seed: int, n1: int, n2: int) -> None:
    rng = random.Random(seed * 1000 + n1 * 31 + n2)
    shift = rng.choice([0.0, 0.2, 0.5])
    a = random_floats(rng, n1)
    b = [x + shift for x in random_floats(rng, n2)]
    assert len(set(a + b)) == n1 + n2  # no ties
    expected = scipy_stats.mannwhitneyu(a, b, alternative="two-sided", method="exact")
    u, p = mann_whitney_u(a, b)
    assert u == pytest.approx(float(expected.statistic), abs=1e-12)
    assert p == pytest.approx(float(expected.pvalue), rel=1e-9)


def test_mann_whitney_exact_for_fully_separated_samples() -> None:
    a = [1.0, 2.0, 3.0, 4.0]
    b = [10.0, 11.0, 12.0, 13.0]
    u, p = mann_whitney_u(a, b)
    assert u == 0.0
    # only one of the C(8, 4) = 70 arrangements is this extreme on each side
    assert p == pytest.approx(2 / 70, rel=1e-12)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(("n1", "n2"), [(5, 5), (8, 12), (20, 15), (40, 40)])
def test_mann_whitney_with_ties_matches_scipy_asymptotic(seed: int, n1: int, n2: int) -> None:
    rng = random.Random(seed + 100 * n1 + n2)
    a = [float(rng.randint(0, 5)) for _ in range(n1)]
    b = [float(rng.randint(1, 6)) for _ in range(n2)]
    assert len(set(a + b)) < n1 + n2  # there are ties
    expected = scipy_stats.mannwhitneyu(a, b, alternative="two-sided", method="asymptotic")
    u, p = mann_whitney_u(a, b)
    assert u == pytest.approx(float(expected.statistic), abs=1e-9)
    assert p == pytest.approx(float(expected.pvalue), rel=1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_mann_whitney_large_samples_match_scipy_asymptotic(seed: int) -> None:
    rng = random.Random(seed)
    a = random_floats(rng, 110)
    b = [x + 0.05 * seed for x in random_floats(rng, 101)]
    assert len(a) * len(b) > EXACT_LIMIT
    expected = scipy_stats.mannwhitneyu(a, b, alternative="two-sided", method="asymptotic")
    u, p = mann_whitney_u(a, b)
    assert u == pytest.approx(float(expected.statistic), abs=1e-9)
    assert p == pytest.approx(float(expected.pvalue), rel=1e-9)


def test_mann_whitney_u_is_the_statistic_of_the_first_sample() -> None:
    a = [1.0, 2.0, 3.0]
    b = [1.5, 2.5, 3.5, 4.5]
    u_ab, p_ab = mann_whitney_u(a, b)
    u_ba, p_ba = mann_whitney_u(b, a)
    assert u_ab + u_ba == len(a) * len(b)
    assert u_ab == 3.0  # pairs with a > b: (2.0, 1.5), (3.0, 1.5), (3.0, 2.5)
    assert p_ab == pytest.approx(p_ba)


def test_mann_whitney_all_values_equal_gives_p_one() -> None:
    u, p = mann_whitney_u([1.0, 1.0, 1.0], [1.0, 1.0])
    assert u == 3.0
    assert p == 1.0


@pytest.mark.parametrize(("a", "b"), [([], [1.0]), ([1.0], []), ([], [])])
def test_mann_whitney_rejects_empty_samples(a: list[float], b: list[float]) -> None:
    with pytest.raises(ValueError, match="both sides"):
        mann_whitney_u(a, b)


# --- compare / Verdict --------------------------------------------------------------------------

def test_compare_names_faster_side_when_clearly_separated() -> None:
    fast = [1.00, 1.01, 0.99, 1.02, 0.98, 1.00, 1.01, 0.99]
    slow = [2.00, 2.02, 1.98, 2.01, 1.99, 2.00, 2.03, 1.97]
    verdict = compare("jax", slow, "pytorch", fast)
    assert isinstance(verdict, Verdict)
    assert verdict.outcome == "faster" and verdict.faster == "pytorch" == verdict.leader
    assert not verdict.level
    assert verdict.ratio == pytest.approx(median(slow) / median(fast), rel=0.02)
    assert 1.05 <= verdict.ratio_low <= verdict.ratio <= verdict.ratio_high
    assert verdict.p_value is not None and verdict.p_value < 0.05
    assert verdict.reason.startswith("95% CI") and "beyond 1.05" in verdict.reason

    swapped = compare("jax", fast, "pytorch", slow)
    assert swapped.faster == "jax"
    assert swapped.ratio == pytest.approx(verdict.ratio)
    assert swapped.ratio_low == pytest.approx(verdict.ratio_low)
    assert swapped.ratio_high == pytest.approx(verdict.ratio_high)


def test_compare_is_inconclusive_when_samples_overlap_widely() -> None:
    rng = random.Random(7)
    a = random_floats(rng, 10, 1.0, 2.0)
    b = random_floats(rng, 10, 1.0, 2.0)
    verdict = compare("jax", a, "pytorch", b)
    assert verdict.p_value is not None and verdict.p_value >= 0.05
    assert verdict.faster is None and verdict.outcome == "inconclusive"
    assert verdict.ratio_low < 1.05 < verdict.ratio_high
    assert "straddles 1.05" in verdict.reason


# Tight samples 2% apart: clearly different, but all of the interval lies within 5%.
TWO_PERCENT_APART = ([1.000 + 0.0001 * i for i in range(10)],
                     [1.020 + 0.0001 * i for i in range(10)])


def test_compare_is_level_when_the_whole_interval_is_within_min_speedup() -> None:
    a, b = TWO_PERCENT_APART
    verdict = compare("jax", a, "pytorch", b, alpha=0.05, min_speedup=1.05)
    assert verdict.p_value is not None and verdict.p_value < 0.05
    assert verdict.ratio == pytest.approx(1.02, rel=1e-3)
    assert verdict.outcome == "level" and verdict.faster is None and verdict.leader == "jax"
    assert verdict.level
    assert "within 1.05" in verdict.reason


def test_compare_names_small_difference_when_min_speedup_allows_it() -> None:
    a, b = TWO_PERCENT_APART
    verdict = compare("jax", a, "pytorch", b, alpha=0.05, min_speedup=1.01)
    assert verdict.faster == "jax"


def test_compare_respects_alpha() -> None:
    a = [1.0, 2.0, 3.0, 4.0]
    b = [10.0, 11.0, 12.0, 13.0]  # exact p = 2/70 ~= 0.0286
    assert compare("a", a, "b", b, alpha=0.05).faster == "a"
    strict = compare("a", a, "b", b, alpha=0.01)
    assert strict.faster is None and strict.outcome == "inconclusive"
    assert strict.p_value == pytest.approx(2 / 70)
    # Four samples a side cannot give a 99% interval at all (2/70 > 0.01): it is unbounded.
    assert math.isinf(strict.ratio_high) and "too few samples" in strict.reason


# --- ratio_interval ------------------------------------------------------------------------------

@pytest.mark.parametrize("n1, n2, cut", [(10, 10, 23), (5, 5, 2), (8, 6, 8), (3, 3, None)])
def test_interval_cut_matches_the_mann_whitney_critical_values(n1, n2, cut) -> None:
    """R: qwilcox(0.025, n1, n2) - 1 differences are left out at each end (23 for 10 and 10,
    2 for 5 and 5, 8 for 8 and 6); 3 and 3 cannot reach 95%."""
    assert stats._cut(n1, n2, 0.05) == cut


def test_interval_brackets_the_true_ratio_about_as_often_as_it_says() -> None:
    rng = random.Random(3)
    covered = 0
    for _ in range(400):
        a = [2.0 * math.exp(rng.gauss(0, 0.1)) for _ in range(10)]
        b = [1.0 * math.exp(rng.gauss(0, 0.1)) for _ in range(10)]
        interval = ratio_interval(a, b)
        covered += interval.low <= 2.0 <= interval.high
    assert 0.92 <= covered / 400 <= 0.99


def test_interval_narrows_with_more_samples_and_rejects_bad_input() -> None:
    rng = random.Random(5)
    def draw(n, scale):
        return [scale * math.exp(rng.gauss(0, 0.1)) for _ in range(n)]
    few = ratio_interval(draw(6, 3.0), draw(6, 1.0))
    many = ratio_interval(draw(60, 3.0), draw(60, 1.0))
    assert many.high / many.low < few.high / few.low
    with pytest.raises(ValueError):
        ratio_interval([1.0, -1.0], [1.0])


def test_compare_raises_on_empty_samples() -> None:
    with pytest.raises(ValueError):
        compare("jax", [], "pytorch", [1.0, 2.0])
    with pytest.raises(ValueError):
        compare("jax", [1.0, 2.0], "pytorch", [])
