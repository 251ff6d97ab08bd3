"""Rendered pages, kept between builds.

A warm rebuild measures nothing, yet MkDocs still converts the Markdown of every page, and the
generated tables and code tabs of the topic pages make that a large part of what is left. A
page renders to the same HTML while nothing that `Page.render` reads has changed, so its HTML
is kept under a key of all of that and reused:

- `before_render` (our `on_page_markdown`, the last one to run) computes the key. On a hit it
  gives MkDocs an empty page to convert; on a miss, the page itself.
- `after_render` (our `on_page_content`, the first one to run) hands back the kept HTML and
  restores what `Page.render` sets besides it: the table of contents (rebuilt with MkDocs' own
  `get_toc`), the title taken from a first h1, the anchors the page holds (other pages' links
  are checked against them) and its own links to anchors (checked after the build). On a miss
  it keeps what the render produced.

The key covers the Markdown (after our directives), the page's source, destination, URL and
inclusion, every file of the site with its URL and inclusion (links resolve against them), the
Markdown extensions and their settings, `use_directory_urls`, the link validation levels, and
the versions of MkDocs (or ProperDocs), Python-Markdown, pymdown-extensions, Pygments and the
package of each extension. `site_url` is left out: the render does not read it, and `serve`
sets it to its own address.

A page whose render logged a warning is never kept, so the warning (and a strict build's
failure) comes back on every build; a message below warning level (a link to an excluded page
is one, at info) is not repeated for a page from the cache. A page's code blocks come from the
highlight cache (render/highlight.py): a page is reused only while its blocks are still there
with the same HTML, and reusing it keeps them there, so the two files agree. Without the hooks
none of this runs: MkDocs renders every page.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import sys
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mkdocs
from mkdocs.structure.toc import AnchorLink, get_toc

from build_hooks.core.jsonfile import read_cache_table, write_versioned
from build_hooks.render import highlight

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.files import Files
    from mkdocs.structure.pages import Page

CACHE_FORMAT = "jax-vs-pytorch/page-cache"
CACHE_SCHEMA = 1
log = logging.getLogger("mkdocs.plugins.comparison")


@dataclass(frozen=True)
class RenderedPage:
    """What `Page.render` produced for one page, as JSON can hold it."""

    html: str
    toc: list[dict[str, Any]]
    """Python-Markdown's toc tokens: level, id, name (the title) and children."""
    title: str | None
    """The first heading, when the page starts with an h1 (`Page._title_from_render`)."""
    anchor_ids: list[str]
    links_to_anchors: dict[str, dict[str, str]]
    """The linked page's src_uri → {anchor: the link as written}, in the page's order."""
    highlight_blocks: list[str]
    """The highlight cache's keys of the page's code blocks, and a digest of their HTML."""
    highlight_digest: str

    @classmethod
    def capture(cls, html: str, page: Page, blocks: list[str], digest: str) -> RenderedPage:
        assert page.links_to_anchors is not None
        return cls(html=html, toc=toc_tokens(page.toc), title=page._title_from_render,
                   anchor_ids=sorted(page.present_anchor_ids or ()),
                   links_to_anchors={file.src_uri: dict(links)
                                     for file, links in page.links_to_anchors.items()},
                   highlight_blocks=blocks, highlight_digest=digest)

    def restore(self, page: Page, files: Files) -> None:
        """Set on `page` what its render would have set (the HTML is returned by the caller)."""
        page.toc = get_toc(self.toc)  # type: ignore[arg-type]
        page._title_from_render = self.title
        page.present_anchor_ids = set(self.anchor_ids)
        # MkDocs 1.6.1 records the links only when its log is not at debug level; follow the
        # render of the empty page, which made the same choice.
        if page.links_to_anchors is not None:
            page.links_to_anchors = {file: dict(links)
                                     for uri, links in self.links_to_anchors.items()
                                     if (file := files.get_file_from_path(uri)) is not None}

    @classmethod
    def from_json(cls, data: object) -> RenderedPage | None:
        """The page stored as `data`, or None if the entry is damaged."""
        if not isinstance(data, dict):
            return None
        links = data.get("links_to_anchors")
        valid = (isinstance(data.get("html"), str) and _is_toc(data.get("toc"))
                 and isinstance(data.get("title"), str | None)
                 and _is_strings(data.get("anchor_ids"))
                 and isinstance(links, dict) and all(_is_anchor_map(a) for a in links.values())
                 and _is_strings(data.get("highlight_blocks"))
                 and isinstance(data.get("highlight_digest"), str))
        return cls(**{name: data[name] for name in cls.__dataclass_fields__}) if valid else None


def toc_tokens(toc: Iterable[AnchorLink]) -> list[dict[str, Any]]:
    """The tokens `get_toc` builds `toc` from."""
    return [{"level": item.level, "id": item.id, "name": item.title,
             "children": toc_tokens(item.children)} for item in toc]


def _is_toc(tokens: object) -> bool:
    return isinstance(tokens, list) and all(
        isinstance(t, dict) and isinstance(t.get("level"), int) and isinstance(t.get("id"), str)
        and isinstance(t.get("name"), str) and _is_toc(t.get("children")) for t in tokens)


def _is_strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _is_anchor_map(value: object) -> bool:
    return isinstance(value, dict) and all(isinstance(link, str) for link in value.values())


def _stable(value: object) -> str:
    """JSON's stand-in for a value it cannot hold: a function or class by its import name (its
    repr holds an address that changes with every process), anything else by its repr."""
    name = getattr(value, "__qualname__", None)
    if isinstance(name, str):
        return f"{getattr(value, '__module__', '')}.{name}"
    return re.sub(r" at 0x[0-9a-fA-F]+", "", repr(value))


def _digest(value: object) -> str:
    text = json.dumps(value, sort_keys=True, default=_stable)
    return hashlib.sha256(text.encode()).hexdigest()


def _package_versions(extensions: list[Any]) -> dict[str, str | None]:
    """The versions of MkDocs (or ProperDocs, which `mkdocs` names under `properdocs`), of
    Python-Markdown, pymdown-extensions, Pygments, and of each extension's package."""
    names = {mkdocs.__name__, "markdown", "pymdownx", "pygments"}
    names |= {(e if isinstance(e, str) else type(e).__module__).split(".")[0] for e in extensions}
    return {name: getattr(sys.modules.get(name), "__version__", None) for name in names}


def site_key(config: MkDocsConfig, files: Files) -> str:
    """The part of every page's key that is the same for all pages of a build."""
    extensions = config["markdown_extensions"]
    return _digest([CACHE_SCHEMA, _package_versions(extensions), extensions,
                    config["mdx_configs"], config["use_directory_urls"],
                    dict(config["validation"]["links"]),
                    sorted((f.src_uri, f.url, f.inclusion.name) for f in files)])


def page_key(markdown: str, page: Page, site: str) -> str:
    file = page.file
    return _digest([site, file.src_uri, file.dest_uri, file.url, file.inclusion.name, markdown])


def _blocks_digest(keys: list[str]) -> str | None:
    """A digest of these blocks' HTML in the highlight cache; None if one is not there."""
    blocks = highlight.CACHE.blocks
    if not all(key in blocks for key in keys):
        return None
    return hashlib.sha256("\0".join(blocks[key] for key in keys).encode()).hexdigest()


class _WarningSeen(logging.Handler):
    """Notes the first warning logged while it listens: on the root logger and on MkDocs' and
    ProperDocs' own, which do not propagate to it."""

    LOGGERS = ("", "mkdocs", "properdocs")

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.first: logging.LogRecord | None = None

    def emit(self, record: logging.LogRecord) -> None:
        self.first = self.first or record

    def listen(self) -> _WarningSeen:
        for name in self.LOGGERS:
            logging.getLogger(name).addHandler(self)
        return self

    def stop(self) -> None:
        for name in self.LOGGERS:
            logging.getLogger(name).removeHandler(self)


@dataclass
class _Render:
    """The page between `before_render` and `after_render`."""

    page: Page
    key: str
    markdown: str
    kept: RenderedPage | None
    """The page from the cache; None when MkDocs renders it."""
    warnings: _WarningSeen | None = None
    outer_blocks: set[str] | None = None
    """The highlight blocks the build used before this page: while the page renders, the
    highlight cache's `used` collects this page's blocks alone."""

    def finish(self) -> list[str]:
        """Stop listening for warnings and give the highlight cache back every block used so
        far. Returns the keys of this page's blocks, when MkDocs rendered it."""
        if self.warnings is not None:
            self.warnings.stop()
        if self.outer_blocks is None:
            return []
        return sorted(highlight.CACHE.end_page(self.outer_blocks))


class PageCache:
    """Page key → RenderedPage; one JSON file, holding the pages of the latest build."""

    def __init__(self) -> None:
        self.path: Path | None = None
        self.pages: dict[str, RenderedPage] = {}
        self.loaded: dict[str, RenderedPage] = {}
        self.used: set[str] = set()
        self.hits = 0
        self.misses = 0
        self._site: tuple[object, object, str] | None = None
        self._render: _Render | None = None

    def open(self, path: Path) -> str | None:
        """Start a build that keeps its pages in `path`. Returns why the file was not used,
        if it was not (absent, unreadable, another format): then every page is rendered."""
        self._forget_render()  # a page whose render failed in the previous build (`serve`)
        self.path, self.used, self.hits, self.misses = path, set(), 0, 0
        self.pages, self.loaded, self._site = {}, {}, None
        table, problem = read_cache_table(path, CACHE_FORMAT, CACHE_SCHEMA, "page cache",
                                          "pages")
        self.loaded = {key: page for key, entry in table.items()
                       if (page := RenderedPage.from_json(entry)) is not None}
        self.pages = dict(self.loaded)
        return problem

    def before_render(self, markdown: str, page: Page, config: MkDocsConfig,
                      files: Files) -> str:
        """The Markdown for MkDocs to convert: empty when the page's HTML is kept."""
        if self._site is None or self._site[0] is not config or self._site[1] is not files:
            self._site = (config, files, site_key(config, files))
        key = page_key(markdown, page, self._site[2])
        kept = self.pages.get(key)
        if kept is not None and self._usable(kept, files):
            self.used.add(key)
            self.hits += 1
            highlight.CACHE.keep(kept.highlight_blocks)
            self._render = _Render(page, key, markdown, kept)
            return ""
        self.misses += 1
        self._render = _Render(page, key, markdown, None, _WarningSeen().listen(),
                               highlight.CACHE.start_page())
        return markdown

    def after_render(self, html: str, page: Page, files: Files) -> str:
        """The page's HTML: the kept one on a hit (and `page` as its render would leave it);
        on a miss `html` as rendered, kept unless the render logged a warning."""
        render, self._render = self._render, None
        if render is None:
            return html
        blocks = render.finish()
        if render.page is not page:  # not the page `before_render` saw: leave it alone
            return html
        if render.kept is not None:
            render.kept.restore(page, files)
            page.markdown = render.markdown  # not the empty page MkDocs converted
            return render.kept.html
        digest = _blocks_digest(blocks)
        warning = render.warnings.first if render.warnings else None
        if warning is not None:
            log.debug(f"Not keeping the HTML of {page.file.src_uri}: its render logged "
                      f"'{warning.getMessage()}'")
        elif page.links_to_anchors is not None and digest is not None:
            self.pages[render.key] = RenderedPage.capture(html, page, blocks, digest)
            self.used.add(render.key)
        return html

    def close(self) -> bool:
        """End the build: store the pages it used (and only those) if they differ from what
        the file held. Returns whether the file was written."""
        path, self.path = self.path, None
        self._forget_render()
        if path is None:
            return False
        kept = {key: self.pages[key] for key in sorted(self.used)}
        if kept == self.loaded:
            return False
        write_versioned(path, CACHE_FORMAT, CACHE_SCHEMA,
                        {"pages": {key: asdict(page) for key, page in kept.items()}},
                        indent=None)
        self.loaded = kept
        return True

    def _usable(self, kept: RenderedPage, files: Files) -> bool:
        """Whether every page it links to is there, and its code blocks are in the highlight
        cache as they were (a changed block means the page renders differently now)."""
        return (all(files.get_file_from_path(uri) is not None for uri in kept.links_to_anchors)
                and _blocks_digest(kept.highlight_blocks) == kept.highlight_digest)

    def _forget_render(self) -> None:
        if self._render is not None and self._render.warnings is not None:
            self._render.warnings.stop()
        self._render = None


CACHE = PageCache()
