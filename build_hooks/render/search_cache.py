"""Search-index entries, kept between builds.

Material's search plugin parses the HTML of every page on every build (its `on_page_context`,
Python's HTMLParser over each tag), and the generated tables and highlighted code of the topic
pages made that most of what a warm rebuild adds to a build without our hooks. The entries it
makes for a page are a function of what it reads: the page's HTML, URL, title, table of
contents and front matter (`title`, `tags`, `search`), the plugin's settings and Material's
version. This module keeps them under a key of all of that:

- `before_index` (our `on_page_context`, which runs before the plugin's): on a hit, the kept
  entries are added to the plugin's index, and the index's `add_entry_from_context` (the
  plugin's whole pass over the page) does nothing for this page; on a miss, nothing changes
  and the plugin parses the page. (Material's own `search: exclude: true` metadata would skip
  the pass too, but a page's metadata reaches its template: the HTML would change.)
- `after_index` (our `on_post_page`, after the template): ends the skip, and on a miss keeps
  the entries the plugin made for the page.

Without the search plugin, with it disabled, or with a Material whose plugin does not keep
its entries where this module looks (`search_index.entries`, `add_entry_from_context`),
nothing is kept and the plugin does all the work, as it does without our hooks.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from build_hooks.core.host import package_versions
from build_hooks.core.jsonfile import read_cache_table, write_versioned

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.pages import Page

CACHE_FORMAT = "jax-vs-pytorch/search-cache"
CACHE_SCHEMA = 1
SETTINGS = ("lang", "separator", "pipeline", "fields", "jieba_dict", "jieba_dict_user")
log = logging.getLogger("mkdocs.plugins.comparison")


def search_plugin(config: MkDocsConfig) -> Any | None:
    """Material's search plugin of this build, when it is enabled and keeps its entries."""
    for plugin in config.plugins.values():
        if type(plugin).__module__ == "material.plugins.search.plugin" and \
                type(plugin).__name__ == "SearchPlugin":
            enabled = plugin.config.get("enabled", True)
            index = getattr(plugin, "search_index", None)
            if enabled and isinstance(getattr(index, "entries", None), list) and \
                    callable(getattr(type(index), "add_entry_from_context", None)):
                return plugin
    return None


def _toc(items: Any) -> list[Any]:
    return [[item.id, item.url, item.title, _toc(item.children)] for item in items]


def entry_key(page: Page, plugin: Any) -> str:
    """A digest of everything the plugin reads to index `page`."""
    meta = {name: page.meta.get(name) for name in ("title", "tags", "search")}
    settings = {name: plugin.config.get(name) for name in SETTINGS}
    parts = [CACHE_SCHEMA, package_versions(("mkdocs-material",)), settings, page.url,
             page.title, meta, _toc(page.toc)]
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode())
    digest.update(b"\0" + (page.content or "").encode())
    return digest.hexdigest()


SKIP = "add_entry_from_context"


def _skip(page: Page) -> None:
    """The index's pass over a page whose entries were added from the cache."""


@dataclass
class _Indexing:
    """One page between `before_index` and `after_index`."""

    key: str
    plugin: Any
    start: int
    """How many entries the plugin's index held before this page."""
    hit: bool


class SearchCache:
    """The kept entries of one build (a module-level instance: `serve` rebuilds reuse it)."""

    def __init__(self) -> None:
        self.path: Path | None = None
        self.entries: dict[str, list[dict[str, Any]]] = {}
        self.loaded: set[str] = set()
        self.used: set[str] = set()
        self.hits = 0
        self.misses = 0
        self._indexing: dict[str, _Indexing] = {}

    def open(self, path: Path) -> str | None:
        """Start a build that keeps its entries in `path`; returns why the file was not used."""
        self.path, self.used, self.hits, self.misses, self._indexing = path, set(), 0, 0, {}
        table, problem = read_cache_table(path, CACHE_FORMAT, CACHE_SCHEMA, "search cache",
                                          "pages")
        self.entries = {key: value for key, value in table.items()
                        if isinstance(value, list) and all(isinstance(e, dict) for e in value)}
        self.loaded = set(self.entries)
        return problem

    def before_index(self, page: Page, config: MkDocsConfig) -> None:
        """Before the plugin indexes `page`: add its kept entries and exclude it from the
        plugin's pass, or note where the plugin's entries for it will start."""
        plugin = search_plugin(config) if self.path is not None else None
        if plugin is None:
            return
        vars(plugin.search_index).pop(SKIP, None)  # a page whose render failed, say
        if (page.meta.get("search") or {}).get("exclude"):
            return
        key = entry_key(page, plugin)
        kept = self.entries.get(key)
        indexing = _Indexing(key, plugin, len(plugin.search_index.entries), kept is not None)
        self._indexing[page.url] = indexing
        self.used.add(key)
        if kept is None:
            self.misses += 1
            return
        self.hits += 1
        plugin.search_index.entries.extend(dict(entry) for entry in kept)
        setattr(plugin.search_index, SKIP, _skip)  # an instance attribute: this page only

    def after_index(self, page: Page) -> None:
        """After the plugin indexed `page`: end the skip (a hit) or keep the entries the
        plugin made for it (a miss)."""
        indexing = self._indexing.pop(page.url, None)
        if indexing is None:
            return
        if indexing.hit:
            vars(indexing.plugin.search_index).pop(SKIP, None)
            return
        made = indexing.plugin.search_index.entries[indexing.start:]
        self.entries[indexing.key] = [dict(entry) for entry in made]

    def close(self) -> None:
        """Write the entries this build used (pages that changed leave the file); nothing
        when every page came from the file as it was."""
        if self.path is None:
            return
        path, self.path = self.path, None
        if self.used == self.loaded and not self.misses:
            return
        kept = {key: self.entries[key] for key in sorted(self.used) if key in self.entries}
        path.parent.mkdir(parents=True, exist_ok=True)
        write_versioned(path, CACHE_FORMAT, CACHE_SCHEMA, {"pages": kept}, indent=None)


CACHE = SearchCache()
