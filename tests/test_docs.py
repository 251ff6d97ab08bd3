"""The prose states the settings the site is built with: a changed setting fails here until the
Methodology page and the README say the same."""

from __future__ import annotations

import re

import pytest

from build_hooks.run import process
from build_hooks.spec.settings import load_settings
from build_hooks.tools import validate
from build_hooks.tools.bench import load_config_file

from .conftest import ROOT


def _text(path: str) -> str:
    """The file with its line breaks and indentation folded into single spaces."""
    return re.sub(r"\s+", " ", (ROOT / path).read_text())


@pytest.fixture(scope="module")
def settings():
    config = load_config_file(ROOT / "mkdocs.yml")
    return load_settings(config.get("extra"), ROOT / "mkdocs.yml")


def _percent(fraction: float) -> str:
    return f"{fraction * 100:g}%"


def test_methodology_states_the_settings_of_the_build(settings):
    measure = settings.measure
    assert not measure.quick  # the page describes full measurements
    text = _text("docs/methodology.md")
    expected = [
        f"until one block lasts at least {measure.min_block_s * 1000:g} ms",
        f"The site takes {measure.blocks} blocks per framework, variant and size",
        f"(within a {measure.max_time_s:g} s budget), in {_number_word(measure.rounds)} rounds",
        f"is still wider than {_percent(measure.target_ci_width)}",
        f"or {measure.max_rounds} rounds have run",
        f"A result whose IQR exceeds {_percent(settings.noise_threshold)} of its median",
        f"could not collect {measure.min_samples} samples within the budget",
        f"with a **{_percent(1 - settings.significance_level)} confidence interval**",
        f"only when the whole interval lies beyond {_percent(settings.min_speedup - 1)}",
        f"when the whole interval lies within {_percent(settings.min_speedup - 1)} either way",
        f"(`measure.settle_blocks`, {measure.settle_blocks})",
        f"(`GLIBC_TUNABLES={process.ALLOCATOR_TUNABLES}`)",
        f"it must lie between {validate.LOW:g} and {validate.HIGH:g}",
    ]
    missing = [phrase for phrase in expected if phrase not in text]
    assert missing == []


def test_the_other_pages_state_the_settings_of_the_build(settings):
    verdict = (f"{_percent(1 - settings.significance_level)} confidence interval",
               f"{_percent(settings.min_speedup - 1)}")
    expected = {
        "docs/index.md": [f"its {verdict[0]}. A framework is named faster only when the whole "
                          f"interval lies beyond {verdict[1]}"],
        "docs/changes.md": [f"the {verdict[0]} of the ratio of its typical times (after over "
                            f"before) lies wholly beyond {verdict[1]}"],
        "docs/data.md": [f"exceeds the noise threshold ({settings.noise_threshold:g})"],
        "docs/methodology.md": [
            f"alternates, {_number_word(validate.ROUNDS)} times, "
            f"{_number_word(validate.BLOCKS_PER_ROUND)} harness blocks"],
    }
    missing = [(page, phrase) for page, phrases in expected.items() for phrase in phrases
               if phrase not in _text(page)]
    assert missing == []


def _number_word(count: int) -> str:
    return ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
            "ten"][count]


def test_readme_states_the_settings_of_the_build(settings):
    text = _text("README.md")
    expected = [
        f"so a block lasts at least {settings.measure.min_block_s * 1000:g} ms",
        f"**noisy**: IQR above {_percent(settings.noise_threshold)} of the median",
        f"**only k of {settings.measure.min_samples} samples**",
        f"with its {_percent(1 - settings.significance_level)} confidence interval",
        f"only when the whole interval lies beyond {_percent(settings.min_speedup - 1)}",
    ]
    missing = [phrase for phrase in expected if phrase not in text]
    assert missing == []
