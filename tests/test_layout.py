"""The package's layout: one subpackage per pipeline step, and the process boundary between the
MkDocs process and the framework workers, checked from the code's own imports."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from build_hooks.records.cache import (
    MEASURING_PACKAGES,
    PEAK_MEMORY_CODE,
    PROBE_CODE,
    measuring_code,
)

from .conftest import ROOT, make_site

PACKAGE = ROOT / "build_hooks"
SUBPACKAGES = ("assemble", "core", "docs_build", "records", "render", "run", "spec", "tools",
               "worker")
ENTRY_MODULES = {"__init__", "__main__", "pipeline"}
FRAMEWORK_PACKAGES = {"jax", "jaxlib", "torch"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module `path` imports, at any depth of the file (lazy imports included), as
    absolute names; `from package import name` counts as importing package.name too."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}
IMPORTS = {name: imports_of(path) for name, path in MODULES.items()}


def inside(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_the_package_is_one_subpackage_per_step_with_few_entry_modules():
    top_modules = {path.stem for path in PACKAGE.glob("*.py")}
    assert top_modules <= ENTRY_MODULES, top_modules - ENTRY_MODULES
    found = {path.name for path in PACKAGE.iterdir()
             if path.is_dir() and (path / "__init__.py").exists()}
    assert found == set(SUBPACKAGES)


def test_no_two_modules_differ_only_by_a_suffix_or_a_plural():
    stems = {path.stem for path in PACKAGE.rglob("*.py") if not path.stem.startswith("__")}
    stems |= set(SUBPACKAGES)
    clashes = sorted((a, b) for a in stems for b in stems if a != b and b.startswith(a))
    assert clashes == []


def test_nothing_outside_the_worker_package_imports_it():
    offenders = {name: sorted(i for i in imported if inside(i, "build_hooks.worker"))
                 for name, imported in IMPORTS.items()
                 if not inside(name, "build_hooks.worker")}
    assert {name: found for name, found in offenders.items() if found} == {}


def test_the_worker_package_imports_only_the_shared_core():
    allowed = ("build_hooks.worker", "build_hooks.core")
    offenders = {}
    for name, imported in IMPORTS.items():
        if not inside(name, "build_hooks.worker"):
            continue
        bad = sorted(i for i in imported
                     if (inside(i, "build_hooks") and i not in ("build_hooks",)
                         and not any(inside(i, a) for a in allowed)
                         and i not in {"build_hooks.FRAMEWORKS", "build_hooks.HARNESS_VERSION"})
                     or inside(i, "mkdocs") or inside(i, "properdocs"))
        if bad:
            offenders[name] = bad
    assert offenders == {}


def test_only_the_worker_package_imports_a_framework():
    offenders = {name: sorted(i for i in imported if i.split(".")[0] in FRAMEWORK_PACKAGES)
                 for name, imported in IMPORTS.items()
                 if not inside(name, "build_hooks.worker")}
    assert {name: found for name, found in offenders.items() if found} == {}


def test_core_uses_the_standard_library_only():
    offenders = {}
    for name, imported in IMPORTS.items():
        if not inside(name, "build_hooks.core"):
            continue
        bad = sorted(i for i in imported if not inside(i, "build_hooks.core")
                     and i.split(".")[0] not in sys.stdlib_module_names
                     and i != "__future__.annotations")
        if bad:
            offenders[name] = bad
    assert offenders == {}


def test_the_boundary_check_sees_lazy_imports(tmp_path: Path):
    """A framework imported inside a function is still an import: the checks above would fail
    on it (so they are not vacuous)."""
    module = tmp_path / "sneaky.py"
    module.write_text("def later():\n    import torch.nn as nn\n    from jax import numpy\n")
    assert {"torch.nn", "jax", "jax.numpy"} <= imports_of(module)


def test_the_measuring_code_in_the_cache_key_is_every_file_of_worker_and_run():
    """Every file of worker/ and run/ is in some key: all numbers' key, or (the peak-memory
    and probe code) the key of the numbers that depend on it alone."""
    everything = sorted(path for name in ("worker", "run")
                        for path in (PACKAGE / name).rglob("*.py"))
    own = [PACKAGE / name for name in (*PEAK_MEMORY_CODE, *PROBE_CODE)]
    assert MEASURING_PACKAGES == ("worker", "run")
    assert all(path in everything for path in own)
    assert measuring_code() == [path for path in everything if path not in own]
    assert len(measuring_code()) >= 10


def test_peak_memory_code_is_in_the_key_of_peak_memory_topics_only(tmp_path: Path):
    from build_hooks import HARNESS_VERSION
    from build_hooks.records.cache import (
        RECORD_SCHEMA,
        _digest,
        code_digest,
        key_parts,
        worker_code_digest,
    )
    from build_hooks.spec.settings import Settings
    from build_hooks.spec.topics import discover_topics

    fixtures = Path(__file__).parent / "fixtures" / "topics"
    settings = Settings(project_dir=tmp_path, snippets_dir=fixtures, cache_dir=tmp_path)
    topics = {t.name: t for t in discover_topics(fixtures)}
    assert topics["fresh_start"].peak_memory and not topics["double"].peak_memory
    common = [HARNESS_VERSION, RECORD_SCHEMA, worker_code_digest()]
    assert key_parts(topics["double"], settings, {})["harness"] == _digest(common)
    assert key_parts(topics["fresh_start"], settings, {})["harness"] == \
        _digest([*common, code_digest(PEAK_MEMORY_CODE)])


def test_mkdocs_config_points_at_files_that_exist():
    config = (ROOT / "mkdocs.yml").read_text()
    data = yaml.load(config, Loader=yaml.Loader)  # the !!python/name: tag needs the full loader
    for path in [*data["hooks"], *data["plugins"][1]["gen-files"]["scripts"]]:
        assert (ROOT / path).is_file(), path


@pytest.mark.slow
def test_a_non_editable_install_holds_every_subpackage_and_builds_a_site(tmp_path: Path):
    """Build a wheel of the project, install it into a folder of its own (no editable link to
    the checkout) and build a fixture site with the installed hooks, gen-files script and
    worker."""
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "--wheel-dir", str(wheels), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    (wheel,) = wheels.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for package in SUBPACKAGES:
        assert f"build_hooks/{package}/__init__.py" in names, package
    assert "build_hooks/worker/__main__.py" in names

    target = tmp_path / "installed"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    installed = target / "build_hooks"
    site = make_site(tmp_path / "project", ["double"])
    config = yaml.load((site.root / "mkdocs.yml").read_text(), Loader=yaml.Loader)
    config["hooks"] = [str(installed / "docs_build" / "hooks.py")]
    config["plugins"][1]["gen-files"]["scripts"] = [str(installed / "docs_build" /
                                                         "gen_files.py")]
    (site.root / "mkdocs.yml").write_text(yaml.dump(config, sort_keys=False))
    env = {"PYTHONPATH": str(target), "PYTHONSAFEPATH": "1"}
    where = subprocess.run(
        [sys.executable, "-c", "import build_hooks; print(build_hooks.__file__)"],
        cwd=site.root, capture_output=True, text=True, env={**os.environ, **env}, check=True)
    assert where.stdout.strip() == str(installed / "__init__.py")
    done = site.build(env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = site.rows("double")
    assert rows and all(row["status"] == "ok" for row in rows)


def test_the_readme_tree_matches_the_folders():
    readme = (ROOT / "README.md").read_text()
    start = readme.index("```\nbuild_hooks/\n")
    block = readme[start:readme.index("```", start + 3)]
    listed = {line.split()[0].rstrip("/") for line in block.splitlines()[2:]
              if line.startswith("  ") and not line.startswith("   ")}
    entry_files = {f"{name}.py" for name in ENTRY_MODULES - {"__init__", "__main__"}}
    assert listed == set(SUBPACKAGES) | entry_files
