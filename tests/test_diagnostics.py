"""What the build log says about a topic's measuring time against its budget."""

from __future__ import annotations

from typing import Any

from build_hooks.assemble.diagnostics import over_budget, problems


def _data(seconds: float, budget: float | None, source: str = "fresh",
          quick: bool = False) -> dict[str, Any]:
    row = {"topic": "matmul", "framework": "jax", "variant": "eager", "size": 8, "status": "ok",
           "environment": {"settings": {"measure": {"quick": quick}}}}
    return {"topics": [{"topic": "matmul", "source": source, "seconds": seconds,
                        "budget_s": budget}],
            "results": [row], "parity": {}}


def test_a_topic_over_its_budget_is_reported_with_its_figures_and_the_fix():
    [message] = over_budget(_data(95.4, 60))
    assert "'matmul' took 95 s" in message and "budget of 60 s" in message
    assert "budget_s in its topic.toml" in message
    warnings, infos = problems(_data(95.4, 60), allow_missing_frameworks=False)
    assert message in infos and not warnings  # a slow machine must not fail a strict build


def test_within_budget_from_the_cache_without_budget_or_quick_says_nothing():
    assert over_budget(_data(59.0, 60)) == []
    assert over_budget(_data(95.0, 60, source="cache")) == []  # not measured by this build
    assert over_budget(_data(95.0, None)) == []
    assert over_budget(_data(95.0, 60, quick=True)) == []  # budgets are for full measurements
