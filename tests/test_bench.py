"""The pieces of `make bench` that prepare its comparison builds (the timing loop is not run)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from build_hooks.tools import bench

from .conftest import QUIET

pytestmark = pytest.mark.slow


def test_comparison_configs_build_the_same_pages(site_factory, tmp_path):
    site = site_factory(["double"])
    config = site.root / "mkdocs.yml"
    assert site.build().returncode == 0  # fill the cache: the pre-rendered copy needs it
    plain = bench._config_without_hooks(config, tmp_path)
    loaded = bench.load_config_file(plain)
    assert "hooks" not in loaded
    assert {"gen-files": {"scripts": []}} in loaded["plugins"]
    prerendered = bench._prerendered_config(plain, config, tmp_path)
    page = (tmp_path / "prerendered-docs" / "topics" / "double.md").read_text()
    assert "{{ topic" not in page and "## Timings" in page and "jax doubled" in page
    for path in (plain, prerendered):
        done = subprocess.run([sys.executable, "-m", "properdocs", "build", "-q", "-f",
                               str(path), "-d", str(tmp_path / path.stem)], cwd=site.root,
                              env={**os.environ, **QUIET}, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr


def test_importtime_parsing_finds_framework_modules():
    log = ("import time: self [us] | cumulative | imported package\n"
           "import time:       120 |        120 |   torch._C\n"
           "import time:        80 |       4000 | jax\n")
    assert bench.imported_modules(log) == {"torch._C", "jax"}
