"""Adaptive sampling: after the fixed rounds, more rounds only while the verdict's interval is
wider than the target, within the row's budget and the round limit."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from build_hooks.run.scheduler import TopicRunner
from build_hooks.spec.settings import MeasureSettings, Settings
from build_hooks.spec.topics import Pair

PAIR = Pair("v", "v", "v")


def runner(tmp_path: Path, **measure) -> TopicRunner:
    settings = Settings(tmp_path, tmp_path, tmp_path, measure=MeasureSettings(**measure))
    return TopicRunner(pool=None, settings=settings, progress=lambda message: None)  # type: ignore[arg-type]


def samples(center: float, spread: float, count: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    return [center * (1 + rng.uniform(-spread, spread)) for _ in range(count)]


@pytest.mark.parametrize("slower, spread, expected", [
    (2.0, 0.001, "interval narrow enough"),
    (2.0, 0.5, "verdict settled"),  # wide, but all of it beyond 5%: more rounds change nothing
    (1.05, 0.5, None),  # wide and straddling 5%: inconclusive, so more rounds
])
def test_more_rounds_only_while_the_verdict_is_open_and_the_interval_wide(tmp_path, slower,
                                                                          spread, expected):
    found = {("jax", "v"): samples(1.0, spread, 10, 1),
             ("pytorch", "v"): samples(slower, spread, 10, 2)}
    assert runner(tmp_path)._stop_reason(PAIR, found, {}) == expected


def test_a_spent_budget_or_a_missing_side_stops_the_rounds(tmp_path):
    wide = {("jax", "v"): samples(1.0, 0.5, 10, 1), ("pytorch", "v"): samples(1.05, 0.5, 10, 2)}
    spent = {("pytorch", "v"): 10.0}
    assert runner(tmp_path, max_time_s=10.0)._stop_reason(PAIR, wide, spent) == "time budget"
    assert runner(tmp_path)._stop_reason(PAIR, {("jax", "v"): [1.0]}, {}) == \
        "not measured on both sides"


def test_the_target_is_a_setting(tmp_path):
    found = {("jax", "v"): samples(1.0, 0.05, 10, 1), ("pytorch", "v"): samples(1.05, 0.05, 10, 2)}
    assert runner(tmp_path, target_ci_width=1.0)._stop_reason(PAIR, found, {}) == \
        "interval narrow enough"
    assert runner(tmp_path, target_ci_width=0.001)._stop_reason(PAIR, found, {}) is None


def test_a_variant_on_one_side_only_stops_after_the_first_rounds(tmp_path):
    found = {("pytorch", "v"): [1.0] * 10}
    assert runner(tmp_path)._stop_reason(Pair("v", None, "v"), found, {}) == "one side only"
