"""Fixture sites: real, tiny MkDocs projects assembled from topic folders in tests/fixtures."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

# Silences the MkDocs-2 notices of mkdocs-gen-files and Material; they are not under test here.
from build_hooks.tools.bench import QUIET, load_config_file

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_TOPICS = ROOT / "tests" / "fixtures" / "topics"
DOCS_BUILD = ROOT / "build_hooks" / "docs_build"
# The compiler start-up the builds keep (build_hooks/run/compiler_start.py): in the clone's
# .cache (ignored by git) rather than the user's, shared by the test processes, so a fresh
# clone's first build that compiles makes it and the later ones reuse it.
os.environ.setdefault("COMPARISON_COMPILER_START_DIR", str(ROOT / ".cache" / "compiler-start"))


MKDOCS_TEMPLATE = {
    "site_name": "Fixture",
    "site_description": "A fixture site for the tests.",
    "theme": {"name": "material", "font": False,
              "features": ["content.tabs.link", "content.code.copy"],
              "palette": [{"scheme": "default", "toggle": {"icon": "material/weather-night",
                                                           "name": "Switch to dark mode"}},
                          {"scheme": "slate", "toggle": {"icon": "material/weather-sunny",
                                                         "name": "Switch to light mode"}}]},
    # The real site's Markdown extensions (the highlight formatter included), so that fixture
    # pages are rendered as the site's pages are.
    "markdown_extensions": load_config_file(ROOT / "mkdocs.yml")["markdown_extensions"],
    # ...and its style sheet and script (copied into each fixture's docs/).
    "extra_css": load_config_file(ROOT / "mkdocs.yml")["extra_css"],
    "extra_javascript": load_config_file(ROOT / "mkdocs.yml")["extra_javascript"],
    "plugins": ["search", {"gen-files": {"scripts": [str(DOCS_BUILD / "gen_files.py")]}}],
    "hooks": [str(DOCS_BUILD / "hooks.py")],
}


@dataclass
class FixtureSite:
    root: Path

    def build(self, *args: str, tool: str = "mkdocs", strict: bool = True,
              env: dict[str, str] | None = None, timeout: float = 600, quiet: bool = True
              ) -> subprocess.CompletedProcess[str]:
        """`quiet=False` lets the MkDocs-2 notices print (to test who prints them)."""
        command = [sys.executable, "-m", tool, "build", "-f", "mkdocs.yml", *args]
        if strict:
            command.append("--strict")
        full_env = {k: v for k, v in os.environ.items() if quiet or k not in QUIET}
        full_env.update({**(QUIET if quiet else {}), **(env or {})})
        for name in ("COMPARISON_QUICK", "COMPARISON_REFRESH"):
            if env is None or name not in env:
                full_env.pop(name, None)
        process = subprocess.run(command, cwd=self.root, env=full_env, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True, timeout=timeout)
        process.stderr = process.stdout  # one log, in order: MkDocs prints some lines to stdout
        return process

    def results(self) -> dict[str, Any]:
        return json.loads((self.root / "site" / "results.json").read_text())

    def html(self, page: str) -> str:
        return (self.root / "site" / page / "index.html").read_text() if page else \
            (self.root / "site" / "index.html").read_text()

    def rows(self, topic: str) -> list[dict[str, Any]]:
        return [r for r in self.results()["results"] if r["topic"] == topic]


def make_site(directory: Path, topics: list[str], settings: dict[str, Any] | None = None,
              pages: dict[str, str] | None = None) -> FixtureSite:
    """A site in `directory` with the named fixture topics, a page for each, quick settings."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in topics:
        shutil.copytree(FIXTURE_TOPICS / name, directory / "snippets" / name)
    (directory / "snippets").mkdir(exist_ok=True)
    docs = directory / "docs"
    (docs / "topics").mkdir(parents=True, exist_ok=True)
    for assets in ("stylesheets", "javascripts"):
        shutil.copytree(ROOT / "docs" / assets, docs / assets, dirs_exist_ok=True)
    (docs / "index.md").write_text("# Fixture\n\n{{ comparison_table }}\n")
    for name in topics:
        page = f"# {name}\n\nProse.\n\n{{{{ topic {name} }}}}\n"
        (docs / "topics" / f"{name}.md").write_text(page)
    for page, text in (pages or {}).items():
        (docs / page).parent.mkdir(parents=True, exist_ok=True)
        (docs / page).write_text(text)
    config = dict(MKDOCS_TEMPLATE)
    # A generous per-topic timeout: the first compiled topic of a fresh clone's test run also
    # builds PyTorch's compiler start-up (tests of the timeout set their own).
    config["extra"] = {"comparison": {"quick": True, "cache_dir": ".cache", "timeout": 300,
                                      **(settings or {})}}
    # yaml.dump, not safe_dump: it names the highlight formatter with `!!python/name:`.
    (directory / "mkdocs.yml").write_text(yaml.dump(config, sort_keys=False))
    return FixtureSite(directory)


def default_sigint() -> None:
    """For a child that a test stops with Ctrl-C's signal: a shell running the tests in the
    background without job control (`make test &`, nohup) ignores SIGINT, and an ignored
    signal stays ignored across exec, so the child would never see it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def processes_with(marker: str) -> list[int]:
    """Processes other than this one whose environment holds `marker` (workers, and
    everything they started)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if marker.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def import_blocker(directory: Path, packages: tuple[str, ...]) -> str:
    """A folder with a sitecustomize that makes importing `packages` fail, as if they were not
    installed; put it on PYTHONPATH. Returns the folder."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "sitecustomize.py").write_text(
        "import sys\n"
        f"BLOCKED = {packages!r}\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in BLOCKED:\n"
        "            raise ModuleNotFoundError(f\"No module named '{name}'\")\n"
        "sys.meta_path.insert(0, Block())\n")
    return str(directory)


@pytest.fixture
def site_factory(tmp_path: Path):
    def factory(topics: list[str], **kwargs: Any) -> FixtureSite:
        return make_site(tmp_path / "project", topics, **kwargs)
    return factory
