"""The project's own settings: `extra.comparison` in mkdocs.yml, validated by MkDocs.

Environment variables override the file for CI: COMPARISON_REFRESH=1 re-runs every topic,
COMPARISON_QUICK=1 takes short measurements (for tests and drafts, never for published numbers),
COMPARISON_CACHE_DIR=<dir> keeps results elsewhere (a cold build, say), COMPARISON_FREEZE=1
builds from the results committed under results/ without running anything.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mkdocs.config import base
from mkdocs.config import config_options as opt
from mkdocs.exceptions import ConfigurationError

from build_hooks import FRAMEWORKS

SETTINGS_KEY = "comparison"


@dataclass(frozen=True)
class MeasureSettings:
    """How steady-state time is sampled; sent to the workers and part of every cache key."""

    min_block_s: float = 0.05
    """A timed block repeats the call until it lasts at least this long (autorange)."""
    blocks: int = 10
    """Blocks to take per (topic, framework, variant, size); each gives one per-call sample."""
    rounds: int = 5
    """The blocks are split into rounds that alternate between the frameworks."""
    target_ci_width: float = 0.10
    """After `rounds`, a (variant, size) whose verdict is inconclusive gets more rounds until
    the verdict is settled or the confidence interval of its ratio is at most this wide
    (high / low - 1), or its time budget or `max_rounds` is spent."""
    max_rounds: int = 15
    """The most rounds a (variant, size) gets, the first `rounds` included."""
    max_time_s: float = 10.0
    """Budget for the steady-state blocks of one (topic, framework, variant, size)."""
    min_samples: int = 5
    """Fewer samples than this within the budget is reported as an incomplete measurement."""
    settle_blocks: int = 1
    """Blocks run and discarded when a framework's turn follows the other framework's: the
    first block after a switch was measured slower (idle worker threads of the other process
    still spinning, cold caches), a bias of the alternation itself."""
    quick: bool = False
    """Quick mode: the numbers are for tests and drafts, and the pages say so."""
    overlap_prepare: bool = False
    """Both frameworks prepare a size at once (setup, first calls, calibration), so their
    first calls overlap, and their fresh-process samples run two at a time: quick mode only,
    where the pages say so."""

    @classmethod
    def quick_mode(cls) -> MeasureSettings:
        return cls(min_block_s=0.002, blocks=4, rounds=2, target_ci_width=0.10, max_rounds=2,
                   max_time_s=1.0, min_samples=2, settle_blocks=1, quick=True,
                   overlap_prepare=True)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Settings:
    """Everything a build needs to know, resolved to absolute paths."""

    project_dir: Path
    snippets_dir: Path
    cache_dir: Path
    frameworks: tuple[str, ...] = FRAMEWORKS
    timeout_s: float = 900.0
    """Per topic and framework: a worker still busy after this long is killed."""
    memory_limit_mb: int = 8192
    """Address-space cap (RLIMIT_AS) of CPU workers; 0 means none. Not applied with CUDA."""
    output_limit_bytes: int = 64 * 1024
    """Printed output kept per block; the rest is cut with a note saying how much."""
    allow_missing_frameworks: bool = False
    """When false, a framework that cannot be imported is a warning (so --strict fails)."""
    refresh: bool = False
    freeze: bool = False
    """Build from results/<machine>/ only: no worker starts, nothing is measured."""
    measure: MeasureSettings = field(default_factory=MeasureSettings)
    noise_threshold: float = 0.10
    """A result whose IQR exceeds this fraction of its median is flagged as noisy."""
    significance_level: float = 0.05
    min_speedup: float = 1.05
    """A framework is called faster only when significant and at least this factor ahead."""

    def cache_key_fields(self) -> dict[str, Any]:
        """The settings that can change a measured number (the rest only change rendering)."""
        return {
            "measure": self.measure.as_dict(),
            # They decide when to stop adding rounds (the verdict's interval and threshold).
            "significance_level": self.significance_level,
            "min_speedup": self.min_speedup,
            "timeout_s": self.timeout_s,
            "memory_limit_mb": self.memory_limit_mb,
            "output_limit_bytes": self.output_limit_bytes,
        }


class _MeasureConfig(base.Config):
    min_block_s = opt.Type((int, float), default=MeasureSettings.min_block_s)
    blocks = opt.Type(int, default=MeasureSettings.blocks)
    rounds = opt.Type(int, default=MeasureSettings.rounds)
    target_ci_width = opt.Type((int, float), default=MeasureSettings.target_ci_width)
    max_rounds = opt.Type(int, default=MeasureSettings.max_rounds)
    max_time_s = opt.Type((int, float), default=MeasureSettings.max_time_s)
    min_samples = opt.Type(int, default=MeasureSettings.min_samples)
    settle_blocks = opt.Type(int, default=MeasureSettings.settle_blocks)


class ComparisonConfig(base.Config):
    """Schema of `extra.comparison` in mkdocs.yml."""

    snippets_dir = opt.Type(str, default="snippets")
    cache_dir = opt.Type(str, default=".cache/comparison")
    frameworks = opt.ListOfItems(opt.Choice(FRAMEWORKS), default=list(FRAMEWORKS))
    timeout = opt.Type((int, float), default=Settings.timeout_s)
    memory_limit_mb = opt.Type(int, default=Settings.memory_limit_mb)
    output_limit_bytes = opt.Type(int, default=Settings.output_limit_bytes)
    allow_missing_frameworks = opt.Type(bool, default=False)
    refresh = opt.Type(bool, default=False)
    freeze = opt.Type(bool, default=False)
    quick = opt.Type(bool, default=False)
    measure = opt.SubConfig(_MeasureConfig)
    noise_threshold = opt.Type(float, default=Settings.noise_threshold)
    significance_level = opt.Type(float, default=Settings.significance_level)
    min_speedup = opt.Type(float, default=Settings.min_speedup)


def _env_flag(name: str) -> bool | None:
    value = os.environ.get(name)
    if value is None or value == "":
        return None
    return value.strip().lower() in ("1", "true", "yes", "on")


def load_settings(extra: Mapping[str, Any] | None,
                  config_file: str | os.PathLike[str]) -> Settings:
    """Validate `extra.comparison` of the config file and apply environment overrides.

    Raises ConfigurationError listing every problem, each with the fix.
    """
    raw = (extra or {}).get(SETTINGS_KEY) or {}
    where = f"{config_file}: extra.{SETTINGS_KEY}"
    if not isinstance(raw, dict):
        raise ConfigurationError(f"{where} must be a mapping of settings, not {type(raw).__name__}")
    schema = ComparisonConfig(config_file_path=str(config_file))
    schema.load_dict(raw)
    failed, warnings = schema.validate()
    problems = [f"{where}.{key}: {error}" for key, error in failed]
    problems += [
        f"{where}.{key}: {message} (remove it, or check the spelling against the README)"
        for key, message in warnings
    ]
    if not failed:  # ranges only make sense once every value has the right type
        problems += _range_problems(schema, where)
    if problems:
        raise ConfigurationError("Invalid settings:\n  " + "\n  ".join(problems))

    project_dir = Path(config_file).resolve().parent
    quick = _env_flag("COMPARISON_QUICK")
    refresh = _env_flag("COMPARISON_REFRESH")
    freeze = _env_flag("COMPARISON_FREEZE")
    quick = schema.quick if quick is None else quick
    if quick:
        measure = MeasureSettings.quick_mode()
    else:
        measure = MeasureSettings(
            min_block_s=float(schema.measure.min_block_s),
            blocks=schema.measure.blocks,
            rounds=schema.measure.rounds,
            target_ci_width=float(schema.measure.target_ci_width),
            max_rounds=schema.measure.max_rounds,
            max_time_s=float(schema.measure.max_time_s),
            min_samples=schema.measure.min_samples,
            settle_blocks=schema.measure.settle_blocks,
        )
    return Settings(
        project_dir=project_dir,
        snippets_dir=(project_dir / schema.snippets_dir).resolve(),
        cache_dir=(project_dir / (os.environ.get("COMPARISON_CACHE_DIR") or schema.cache_dir)
                   ).resolve(),
        frameworks=tuple(schema.frameworks),
        timeout_s=float(schema.timeout),
        memory_limit_mb=schema.memory_limit_mb,
        output_limit_bytes=schema.output_limit_bytes,
        allow_missing_frameworks=schema.allow_missing_frameworks,
        refresh=schema.refresh if refresh is None else refresh,
        freeze=schema.freeze if freeze is None else freeze,
        measure=measure,
        noise_threshold=schema.noise_threshold,
        significance_level=schema.significance_level,
        min_speedup=schema.min_speedup,
    )


def _range_problems(schema: ComparisonConfig, where: str) -> list[str]:
    problems = []
    checks = [
        ("timeout", schema.timeout > 0, "a number of seconds above 0"),
        ("memory_limit_mb", schema.memory_limit_mb >= 0, "0 (no limit) or a size in MiB"),
        ("output_limit_bytes", schema.output_limit_bytes >= 1024, "at least 1024"),
        ("frameworks", len(schema.frameworks) > 0, "a list naming jax, pytorch or both"),
        ("min_speedup", schema.min_speedup >= 1.0, "a factor of 1.0 or more, e.g. 1.05"),
        ("significance_level", 0 < schema.significance_level < 1, "a probability, e.g. 0.05"),
        ("noise_threshold", schema.noise_threshold > 0, "a fraction above 0, e.g. 0.1"),
    ]
    if schema.measure is not None:
        measure = schema.measure
        checks += [
            ("measure.min_block_s", measure.min_block_s > 0, "seconds above 0, e.g. 0.05"),
            ("measure.blocks", measure.blocks >= 1, "a count of 1 or more, e.g. 10"),
            ("measure.rounds", 1 <= measure.rounds <= measure.blocks, "between 1 and blocks"),
            ("measure.target_ci_width", measure.target_ci_width > 0,
             "a fraction above 0, e.g. 0.1"),
            ("measure.max_rounds", measure.max_rounds >= measure.rounds,
             "at least measure.rounds, e.g. 15"),
            ("measure.max_time_s", measure.max_time_s > 0, "seconds above 0, e.g. 10"),
            ("measure.min_samples", 1 <= measure.min_samples <= measure.blocks,
             "a count between 1 and blocks"),
            ("measure.settle_blocks", measure.settle_blocks >= 0, "0 or more, e.g. 1"),
        ]
    for key, ok, expected in checks:
        if not ok:
            problems.append(f"{where}.{key}: out of range; set it to {expected}")
    return problems
