"""Highlighted code blocks, kept between builds.

Every topic page shows its snippets and their output as fenced code blocks, and highlighting
them with Pygments is most of what a warm rebuild spends on those pages (plus Pygments' own
start-up: its lexers compile their rules on first use). The code rarely changes between builds,
so the HTML of each block is kept under its key and reused.

This is a SuperFences custom fence for every language (`name: "*"` in mkdocs.yml), so it takes
the place of SuperFences' default formatter and calls that same formatter on a miss. The HTML
is what SuperFences would have written less the spans that change nothing on screen: Pygments
wraps every token in a span of its class, and Material's stylesheets give the classes of names
(`n`) and whitespace (`w`) no look of their own (a name's colour, `--md-code-hl-name-color`, is
the code's own colour in both palettes; a test reads Material's CSS and ours to hold that), so
the page shows the same text in the same colours (only glyph edges may move by a fraction of a
pixel, where a line is now shaped as fewer runs). On the heaviest topic page those spans were
about 800 of its 3,500 elements, and a phone styles every element again each time Material's
script changes the page and reads back a size.

A block whose HTML holds a placeholder of the page's own stash (an HTML title) is never kept.
The key covers the block (source, language, options, classes, id, attributes, its number on
the page), the highlight settings, the cache's schema (which names how blocks are slimmed) and
the versions of Pygments, pymdown-extensions and Python-Markdown, so a change to any of them
highlights afresh.

Without the hooks (a site that does not run `on_pre_build`), blocks are still highlighted, and
kept only for the life of the process.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import markdown
import pygments
import pymdownx
from markdown.util import STX

from build_hooks.core.jsonfile import read_cache_table, write_versioned

CACHE_FORMAT = "jax-vs-pytorch/highlight-cache"
CACHE_SCHEMA = 2  # 2: the unstyled spans are unwrapped (slim)


class HighlightCache:
    """Block key → highlighted HTML; one JSON file, holding the blocks of the latest build."""

    def __init__(self) -> None:
        self.path: Path | None = None
        self.blocks: dict[str, str] = {}
        self.used: set[str] = set()
        self.loaded: dict[str, str] = {}
        self.hits = 0
        self.misses = 0

    def start_page(self) -> set[str]:
        """Collect the blocks of one page apart from the build's: returns the blocks used so
        far, to hand back to `end_page`."""
        before, self.used = self.used, set()
        return before

    def end_page(self, before: set[str]) -> set[str]:
        """The blocks the page used since `start_page`; the build's set holds them all again."""
        page, self.used = self.used, before | self.used
        return page

    def keep(self, keys: list[str]) -> None:
        """Blocks a page from the page cache uses, kept in the file as if highlighted."""
        self.used.update(keys)

    def open(self, path: Path) -> str | None:
        """Start a build that keeps its blocks in `path`. Returns why the file was not used,
        if it was not (absent, unreadable, another format): then every block is highlighted."""
        self.path, self.used, self.hits, self.misses = path, set(), 0, 0
        self.blocks, self.loaded = {}, {}
        table, problem = read_cache_table(path, CACHE_FORMAT, CACHE_SCHEMA, "highlight cache",
                                          "blocks")
        self.loaded = {key: html for key, html in table.items()
                       if isinstance(key, str) and isinstance(html, str)}
        self.blocks = dict(self.loaded)
        return problem

    def get(self, key: str) -> str | None:
        html = self.blocks.get(key)
        if html is not None:
            self.used.add(key)
            self.hits += 1
        return html

    def put(self, key: str, html: str) -> None:
        self.blocks[key] = html
        self.used.add(key)
        self.misses += 1

    def close(self) -> bool:
        """End the build: store the blocks it used (and only those) if they differ from what
        the file held. Returns whether the file was written."""
        path, self.path = self.path, None
        if path is None:
            return False
        kept = {key: self.blocks[key] for key in sorted(self.used)}
        if kept == self.loaded:
            return False
        write_versioned(path, CACHE_FORMAT, CACHE_SCHEMA, {"blocks": kept}, indent=None)
        self.loaded = kept
        return True


CACHE = HighlightCache()
_VERSIONS = (CACHE_SCHEMA, pygments.__version__, pymdownx.__version__, markdown.__version__)


# A span of one of these classes around text (Pygments escapes <, > and & in it).
_UNSTYLED_SPAN = re.compile(r'<span class="(?:n|w)">([^<]*)</span>')


def slim(html: str) -> str:
    """SuperFences' HTML of a block without the spans that change nothing on screen (names and
    whitespace, see the module's docstring): the same text, the same look, fewer elements."""
    return _UNSTYLED_SPAN.sub(r"\1", html)


def _settings_key(fenced: Any) -> str:
    """The highlight settings of this Markdown instance, computed once per instance."""
    key = getattr(fenced, "_comparison_settings_key", None)
    if key is None:
        settings = fenced.highlight_ext.get_pymdownx_highlight_settings()
        key = json.dumps([settings, fenced.css_class, fenced.title_mode], sort_keys=True,
                         default=repr)
        fenced._comparison_settings_key = key
    return key


def block_key(fenced: Any, src: str, language: str, options: dict[str, Any],
              kwargs: dict[str, Any]) -> str:
    attrs = kwargs.get("attrs") or {}
    block = [src, language, options, kwargs.get("classes"), kwargs.get("id_value"),
             list(attrs.items()),  # in order: they are written in this order
             fenced.highlight_ext.pygments_code_block + 1]
    text = json.dumps([_VERSIONS, _settings_key(fenced), block], sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


def format_fence(src: str, language: str, class_name: str, options: dict[str, Any],
                 md: markdown.Markdown, **kwargs: Any) -> str:
    """SuperFences formatter: the cached HTML of this block, else SuperFences' own, slimmed."""
    fenced = md.preprocessors["fenced_code_block"]
    key = block_key(fenced, src, language, options, kwargs)
    html = CACHE.get(key)
    if html is None:
        html = slim(fenced.highlight(src=src, language=language, options=options, md=md,
                                     **kwargs))
        # A placeholder (an HTML title, say, goes to this page's stash) means something on
        # this page only: such a block is highlighted afresh every time.
        if STX not in html:
            CACHE.put(key, html)
    else:
        # SuperFences numbers the blocks of a page (for line anchors); keep the count right.
        fenced.highlight_ext.pygments_code_block += 1
    return html
