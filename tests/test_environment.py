"""Machine facts read in the MkDocs process, cheaply and without importing a framework."""

from __future__ import annotations

import sys
from importlib import metadata

from build_hooks.core import host


def test_versions_from_dist_info_names_match_importlib_metadata():
    names = ("jax", "jaxlib", "torch", "numpy", "mkdocs-material", "PyYAML", "pytest")
    assert host.package_versions(names) == {name: metadata.version(name)
                                                   for name in names}


def test_a_package_that_is_not_installed_has_no_version():
    assert host.package_versions(("no-such-package-xyz",)) == \
        {"no-such-package-xyz": None}


def test_machine_facts_and_fingerprint_do_not_import_frameworks():
    before = set(sys.modules)
    info = host.machine()
    assert not {m for m in set(sys.modules) - before if m.split(".")[0] in ("jax", "torch")}
    assert info["cpu"] and info["schedulable_cores"] >= 1 and info["python"]
    fingerprint = host.fingerprint(info)
    assert set(fingerprint["packages"]) == {"jax", "jaxlib", "torch", "numpy"}
    assert "memory_bytes" not in fingerprint  # only what can change a number


def test_machine_name_comes_from_the_variable_or_the_hardware(monkeypatch):
    info = {"gpus": [], "cpu": "AMD EPYC 7B13 64-Core Processor", "schedulable_cores": 8}
    monkeypatch.delenv("COMPARISON_MACHINE", raising=False)
    assert host.machine_name(info) == "amd-epyc-7b13-64-core-processor-8c"
    assert host.machine_name({**info, "gpus": ["NVIDIA H100 80GB HBM3"]}) == \
        "nvidia-h100-80gb-hbm3-8c"
    monkeypatch.setenv("COMPARISON_MACHINE", "ci-runner")
    assert host.machine_name(info) == "ci-runner"


def test_the_browser_is_found_by_chrome_path_or_by_any_of_its_names(tmp_path, monkeypatch):
    fake = tmp_path / "google-chrome"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.delenv("CHROME_PATH", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert host.find_chromium() == str(fake)  # GitHub's hosted image names it so
    chosen = tmp_path / "my-chromium"
    chosen.write_text("#!/bin/sh\n")
    chosen.chmod(0o755)
    monkeypatch.setenv("CHROME_PATH", str(chosen))
    assert host.find_chromium() == str(chosen)
    monkeypatch.delenv("CHROME_PATH")
    fake.unlink()
    assert host.find_chromium() is None
