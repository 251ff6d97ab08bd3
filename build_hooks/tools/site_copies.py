"""Copies of the project for `make bench`: the bench edits files and builds sites, so it works
on a copy and never touches the author's tree.

`copy_project` copies what a build reads (mkdocs.yml, docs/, snippets/, results/ and the
comparison cache, so a copy starts warm) into a scratch folder; with `topics` it keeps only
those topics (their snippets, their pages and their nav entries), which is how the bench
compares a warm rebuild of a small site with one of the whole site. The hook module and the
gen-files script are named by absolute path in the copy's config, so the copy runs this
package's code.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from build_hooks.spec.settings import ComparisonConfig

TOPIC_PAGES = "topics"


def load_config_file(path: Path) -> dict[str, Any]:
    """A config file as MkDocs reads it (its YAML loader resolves `!ENV` and names Python
    objects with `!!python/name:`, as the highlight formatter is named); `yaml.dump` writes those
    names back."""
    from mkdocs.utils.yaml import yaml_load

    with open(path, encoding="utf-8") as stream:
        return yaml_load(stream)


def folder_names(config: dict[str, Any]) -> tuple[str, str, str]:
    """The docs, snippets and comparison cache folders as a loaded mkdocs.yml names them
    (relative to the project), with MkDocs' and this project's defaults."""
    defaults = dict(ComparisonConfig._schema)  # the defaults the build itself applies
    comparison = (config.get("extra") or {}).get("comparison") or {}
    return (config.get("docs_dir", "docs"),
            comparison.get("snippets_dir", defaults["snippets_dir"].default),
            comparison.get("cache_dir", defaults["cache_dir"].default))


def project_folders(config_file: Path) -> tuple[Path, Path]:
    """The project's docs and snippets folders, as its mkdocs.yml names them."""
    docs, snippets, _ = folder_names(load_config_file(config_file))
    return config_file.parent / docs, config_file.parent / snippets


def copy_project(config_file: Path, destination: Path, topics: list[str] | None = None
                 ) -> Path:
    """A copy of the project in `destination` (created), optionally with only `topics`;
    returns the copy's config file."""
    project = config_file.parent
    config = load_config_file(config_file)
    docs, snippets, cache = folder_names(config)
    destination.mkdir(parents=True, exist_ok=True)
    kept = topics if topics is not None else sorted(
        p.name for p in (project / snippets).iterdir() if (p / "topic.toml").is_file())
    missing = [name for name in kept if not (project / snippets / name / "topic.toml").is_file()]
    if missing:
        raise ValueError(f"{project / snippets}: no topic named {', '.join(missing)}; "
                         "name folders that hold a topic.toml")
    for name in kept:
        shutil.copytree(project / snippets / name, destination / snippets / name)
    shutil.copytree(project / docs, destination / docs)
    if topics is not None:
        for page in (destination / docs / TOPIC_PAGES).glob("*.md"):
            if page.stem not in kept:
                page.unlink()
        config["nav"] = _nav_without(config.get("nav") or [], set(kept))
    for folder in ("results", cache):
        if (project / folder).is_dir():
            shutil.copytree(project / folder, destination / folder)
    config["hooks"] = [str((project / hook).resolve()) for hook in config.get("hooks", [])]
    config["plugins"] = [_absolute_scripts(plugin, project) for plugin in config.get("plugins",
                                                                                    [])]
    path = destination / config_file.name
    path.write_text(yaml.dump(config, sort_keys=False))
    return path


def _nav_without(nav: list[Any], kept: set[str]) -> list[Any]:
    """The nav without the pages of topics not in `kept` (and sections left empty)."""
    result: list[Any] = []
    for entry in nav:
        if isinstance(entry, str):
            if not _drops(entry, kept):
                result.append(entry)
        elif isinstance(entry, dict):
            ((title, value),) = entry.items()
            if isinstance(value, list):
                inner = _nav_without(value, kept)
                if inner:
                    result.append({title: inner})
            elif not _drops(str(value), kept):
                result.append(entry)
    return result


def _drops(page: str, kept: set[str]) -> bool:
    parts = Path(page).parts
    return len(parts) == 2 and parts[0] == TOPIC_PAGES and Path(page).stem not in kept


def _absolute_scripts(plugin: Any, project: Path) -> Any:
    if isinstance(plugin, dict) and "gen-files" in plugin:
        options = dict(plugin["gen-files"] or {})
        options["scripts"] = [str((project / s).resolve()) for s in options.get("scripts", [])]
        return {"gen-files": options}
    return plugin


def html_bytes(site_dir: Path) -> int:
    """The size of a built site's pages (its HTML files)."""
    return sum(path.stat().st_size for path in site_dir.rglob("*.html"))
