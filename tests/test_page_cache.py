"""The page cache: a page from the cache is the page MkDocs would have rendered, byte for byte,
with the same table of contents, title and anchors; warnings of the render come back."""

from __future__ import annotations

import json
import logging
import re
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pygments
import pytest
import yaml
from mkdocs.config import load_config
from mkdocs.structure.files import Files, get_files
from mkdocs.structure.pages import Page

from build_hooks.render import highlight, page_cache
from build_hooks.render.page_cache import PageCache, RenderedPage, page_key, site_key
from build_hooks.tools.bench import load_config_file

from .conftest import MKDOCS_TEMPLATE, FixtureSite, make_site

PAGES = {
    "guide.md": (
        "# Guide\n\nProse with a [link to the topic](topics/double.md) and an "
        "[anchor elsewhere](other.md#present-heading), a [raw one](other.md#raw-anchor) and "
        "[one here](#part-two).\n\n"
        "## Part one\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        "!!! note \"A note\"\n    With `code` in it.\n\n"
        "## Part *two* { #part-two }\n\n### Deeper\n\n"
        "```python\ndef guide(x):\n    return x + 1\n```\n"),
    "other.md": ("# Other\n\n## Present heading\n\n<a id=\"raw-anchor\"></a>\n\n"
                 "=== \"One\"\n\n    ```text\n    tab one\n    ```\n\n"
                 "=== \"Two\"\n\n    Tab two.\n"),
    "untitled.md": "No heading here, so the title comes from the file name.\n",
}
# In the fixture sites the topic page is generated; a project rendered in-process needs one.
UNIT_PAGES = {**PAGES, "topics/double.md": "# Double\n"}


# -- Fast: the key, the stored form, one page rendered in this process -----------------------

def _project(root: Path, pages: dict[str, str], **config: Any) -> Path:
    for name, text in pages.items():
        (root / "docs" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "docs" / name).write_text(text)
    settings = {"site_name": "Unit", "markdown_extensions": MKDOCS_TEMPLATE["markdown_extensions"],
                **config}
    (root / "mkdocs.yml").write_text(yaml.dump(settings, sort_keys=False))
    return root / "mkdocs.yml"


def _render(config_file: Path, cache: PageCache | None) -> tuple[Files, dict[str, Page]]:
    """Every page of the project rendered as MkDocs' build does, through `cache` if given."""
    config = load_config(config_file=str(config_file))
    files = get_files(config)
    pages = {}
    for file in files.documentation_pages():
        page = pages[file.src_uri] = Page(None, file, config)
        page.read_source(config)
        assert page.markdown is not None
        if cache is not None:
            page.markdown = cache.before_render(page.markdown, page, config, files)
        page.render(config, files)
        assert page.content is not None
        if cache is not None:
            page.content = cache.after_render(page.content, page, files)
    return files, pages


def _state(page: Page) -> dict[str, Any]:
    """What a page holds after rendering, for comparison."""
    return {"html": page.content, "markdown": page.markdown, "title": page.title,
            "toc": page_cache.toc_tokens(page.toc), "toc_text": str(page.toc),
            "first_active": [getattr(item, "active", False) for item in page.toc],
            "anchors": page.present_anchor_ids,
            "links": {file.src_uri: links for file, links in (page.links_to_anchors or {}).items()}}


@pytest.fixture
def caches(tmp_path: Path):
    highlight.CACHE.open(tmp_path / "highlight.json")
    page_cache.CACHE.open(tmp_path / "pages.json")
    yield page_cache.CACHE
    page_cache.CACHE.close()
    highlight.CACHE.close()


def _reopen(cache: PageCache, tmp_path: Path) -> None:
    cache.close()
    highlight.CACHE.close()
    assert highlight.CACHE.open(tmp_path / "highlight.json") is None
    assert cache.open(tmp_path / "pages.json") is None


def test_a_page_from_the_cache_is_the_page_as_rendered(caches, tmp_path):
    config = _project(tmp_path / "project", UNIT_PAGES)
    expected = {uri: _state(page) for uri, page in _render(config, None)[1].items()}
    assert expected["guide.md"]["title"] == "Guide" and expected["guide.md"]["toc"]
    assert expected["untitled.md"]["title"] == "Untitled"
    assert "raw-anchor" in expected["other.md"]["anchors"]

    cold = {uri: _state(page) for uri, page in _render(config, caches)[1].items()}
    assert cold == expected
    assert (caches.hits, caches.misses) == (0, 4)
    _reopen(caches, tmp_path)
    warm = {uri: _state(page) for uri, page in _render(config, caches)[1].items()}
    assert warm == expected
    assert (caches.hits, caches.misses) == (4, 0)


def test_links_to_anchors_are_checked_on_a_page_from_the_cache(caches, tmp_path, caplog):
    page = "# Links\n\n[gone](other.md#missing) [there](other.md#present-heading)\n"
    config = _project(tmp_path / "project", {**UNIT_PAGES, "links.md": page})
    for counts in [(0, 5), (5, 0)]:
        caplog.clear()
        files, pages = _render(config, caches)
        assert (caches.hits, caches.misses) == counts
        with caplog.at_level(logging.INFO):
            for rendered in pages.values():
                rendered.validate_anchor_links(files=files, log_level=logging.WARNING)
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert warnings == ["Doc file 'links.md' contains a link 'other.md#missing', but the "
                            "doc 'other.md' does not contain an anchor '#missing'."]
        _reopen(caches, tmp_path)


def test_a_render_that_warns_is_not_kept(caches, tmp_path, caplog):
    config = _project(tmp_path / "project", {**UNIT_PAGES, "broken.md": "# B\n\n[x](nowhere.md)\n"})
    for _ in range(2):
        with caplog.at_level(logging.WARNING):
            caplog.clear()
            _render(config, caches)
        assert any("nowhere.md" in r.getMessage() for r in caplog.records)
        _reopen(caches, tmp_path)
    assert len(caches.loaded) == 4  # every page but the broken one
    # The listener is gone once the page is rendered.
    assert not any(isinstance(h, page_cache._WarningSeen)
                   for name in ("", "mkdocs", "properdocs")
                   for h in logging.getLogger(name).handlers)


def test_the_code_blocks_of_kept_pages_stay_in_the_highlight_cache(caches, tmp_path):
    config = _project(tmp_path / "project", UNIT_PAGES)
    _render(config, caches)
    _reopen(caches, tmp_path)
    blocks = dict(highlight.CACHE.blocks)
    assert len(blocks) == 2
    _render(config, caches)  # every page from the cache: no block is highlighted or fetched
    assert caches.hits == 4 and highlight.CACHE.hits == highlight.CACHE.misses == 0
    caches.close()
    highlight.CACHE.close()
    path = tmp_path / "highlight.json"
    stored = json.loads(path.read_text())
    assert stored["blocks"] == blocks  # ...and still the file keeps them

    # A block that is not in the highlight cache as it was makes its page render again.
    stored["blocks"] = {key: html.replace("<code>", "<code><!--new-->", 1)
                        for key, html in stored["blocks"].items()}
    path.write_text(json.dumps(stored))
    highlight.CACHE.open(path)
    caches.open(tmp_path / "pages.json")
    _, pages = _render(config, caches)
    assert (caches.hits, caches.misses) == (2, 2)
    assert "<!--new-->" in (pages["guide.md"].content or "")


def test_the_key_covers_the_page_the_files_the_settings_and_the_versions(tmp_path, monkeypatch):
    config_file = _project(tmp_path / "project", PAGES)
    config = load_config(config_file=str(config_file))
    files = get_files(config)
    page = Page(None, files.get_file_from_path("guide.md"), config)
    other = Page(None, files.get_file_from_path("other.md"), config)
    site = site_key(config, files)
    assert site == site_key(load_config(config_file=str(config_file)), get_files(config))
    assert page_key("# A", page, site) == page_key("# A", page, site)
    assert page_key("# A", page, site) != page_key("# B", page, site)
    assert page_key("# A", page, site) != page_key("# A", other, site)

    (tmp_path / "project" / "docs" / "new.md").write_text("# New\n")  # links may resolve now
    assert site_key(config, get_files(config)) != site
    config["use_directory_urls"] = False
    assert site_key(config, files) != site
    config["use_directory_urls"] = True
    config["validation"]["links"]["not_found"] = logging.INFO
    assert site_key(config, files) != site
    config["validation"]["links"]["not_found"] = logging.WARNING
    config["mdx_configs"]["toc"] = {"permalink": False}
    assert site_key(config, files) != site
    config["mdx_configs"]["toc"] = {"permalink": True}
    assert site_key(config, files) == site
    monkeypatch.setattr(pygments, "__version__", "0.0.1")
    assert site_key(config, files) != site


def test_functions_in_the_settings_are_keyed_by_name_not_address():
    assert page_cache._stable(highlight.format_fence) == \
        "build_hooks.render.highlight.format_fence"
    assert "0x" not in page_cache._stable(object())


def test_a_stored_page_reads_back_the_same_and_damage_is_dropped(tmp_path):
    config = _project(tmp_path / "project", UNIT_PAGES)
    _, pages = _render(config, None)
    page = pages["guide.md"]
    assert page.content is not None
    kept = RenderedPage.capture(page.content, page, ["k"], "d")
    assert kept.links_to_anchors == {"other.md": {"present-heading": "other.md#present-heading",
                                                  "raw-anchor": "other.md#raw-anchor"},
                                     "guide.md": {"guide": "#guide", "part-one": "#part-one",
                                                  "part-two": "#part-two", "deeper": "#deeper"}}
    stored = json.loads(json.dumps(asdict(kept)))
    assert RenderedPage.from_json(stored) == kept
    for damage in ({"toc": [{"level": 1}]}, {"title": 3}, {"anchor_ids": "a"},
                   {"links_to_anchors": {"a.md": {"x": 1}}}, {"html": None}):
        assert RenderedPage.from_json({**stored, **damage}) is None
    assert RenderedPage.from_json({k: v for k, v in stored.items() if k != "html"}) is None
    assert RenderedPage.from_json([1]) is None


@pytest.mark.parametrize("content, problem", [
    (None, "does not exist yet"),
    ("{not json", "unreadable"),
    (json.dumps({"format": "something else", "pages": {}}), "not a page cache"),
    (json.dumps({"format": page_cache.CACHE_FORMAT, "schema_version": 99, "pages": {}}),
     "has schema 99"),
    (json.dumps({"format": page_cache.CACHE_FORMAT, "schema_version": page_cache.CACHE_SCHEMA,
                 "pages": []}), "not a page cache"),
])
def test_a_bad_or_missing_file_means_rendering_every_page(tmp_path, content, problem):
    path = tmp_path / "pages.json"
    if content is not None:
        path.write_text(content)
    cache = PageCache()
    assert problem in (cache.open(path) or "")
    config = _project(tmp_path / "project", UNIT_PAGES)
    _render(config, cache)
    assert cache.misses == 4
    assert cache.close()
    assert len(json.loads(path.read_text())["pages"]) == 4  # replaced by a good file


def test_the_file_keeps_only_the_pages_of_the_latest_build(tmp_path):
    path = tmp_path / "pages.json"
    cache = PageCache()
    cache.open(path)
    _render(_project(tmp_path / "one", UNIT_PAGES), cache)
    cache.close()
    cache.open(path)
    _render(_project(tmp_path / "two", {"index.md": "# Only\n"}), cache)
    assert cache.close()
    assert len(json.loads(path.read_text())["pages"]) == 1
    cache.open(path)
    _render(_project(tmp_path / "two", {"index.md": "# Only\n"}), cache)
    written = path.stat().st_mtime_ns
    assert not cache.close()  # nothing new: the file is left alone
    assert path.stat().st_mtime_ns == written


# -- Slow: real builds of a fixture site ------------------------------------------------------

@pytest.fixture(scope="module")
def measured(tmp_path_factory) -> Path:
    """A site whose topic is measured once; each test builds a copy of it."""
    site = make_site(tmp_path_factory.mktemp("measured") / "project", ["double"], pages=PAGES)
    build = site.build()
    assert build.returncode == 0, build.stderr
    return site.root


@pytest.fixture
def site(measured: Path, tmp_path: Path) -> FixtureSite:
    shutil.copytree(measured, tmp_path / "project")
    return FixtureSite(tmp_path / "project")


def _outputs(site: FixtureSite) -> dict[str, bytes]:
    built = site.root / "site"
    paths = [*built.rglob("*.html"), built / "search" / "search_index.json"]
    return {str(path.relative_to(built)): path.read_bytes() for path in paths}


def _counts(log: str) -> tuple[int, int]:
    found = re.search(r"Pages from the page cache: (\d+), rendered: (\d+)", log)
    assert found, log
    return int(found[1]), int(found[2])


def _pages_file(site: FixtureSite) -> Path:
    return site.root / ".cache" / "pages" / "pages.json"


def _search_counts(log: str) -> tuple[int, int]:
    found = re.search(r"Pages indexed from the search cache: (\d+), by the search plugin: "
                      r"(\d+)", log)
    assert found, log
    return int(found[1]), int(found[2])


def _search_file(site: FixtureSite) -> Path:
    return site.root / ".cache" / "pages" / "search.json"


@pytest.mark.slow
def test_a_warm_build_writes_the_same_site_as_one_without_the_page_cache(site):
    _pages_file(site).unlink()
    _search_file(site).unlink()
    cold = site.build("-v", tool="properdocs")
    assert cold.returncode == 0, cold.stderr
    assert "Rendering every page" in cold.stderr and _counts(cold.stderr) == (0, 5)
    assert "Indexing every page for search" in cold.stderr
    assert _search_counts(cold.stderr) == (0, 5)
    expected = _outputs(site)
    assert len(expected) == 7  # five pages, 404.html and the search index
    warm = site.build("-v", tool="properdocs")
    assert warm.returncode == 0, warm.stderr
    assert _counts(warm.stderr) == (5, 0) and _search_counts(warm.stderr) == (5, 0)
    assert _outputs(site) == expected  # the HTML and the search index, byte for byte


@pytest.mark.slow
def test_search_entries_come_from_the_cache_until_their_page_changes(site):
    assert site.build().returncode == 0
    path = _search_file(site)
    stored = json.loads(path.read_text())
    assert stored["format"] == "jax-vs-pytorch/search-cache" and len(stored["pages"]) == 5
    # A mark put into every kept entry reaches the index: no kept page was parsed again.
    for entries in stored["pages"].values():
        for entry in entries:
            entry["text"] = "KEPT " + entry["text"]
    path.write_text(json.dumps(stored))
    guide = site.root / "docs" / "guide.md"
    guide.write_text(guide.read_text().replace("Prose with", "Searchable prose with"))
    build = site.build("-v", tool="properdocs")
    assert build.returncode == 0, build.stderr
    assert _search_counts(build.stderr) == (4, 1)
    docs = json.loads((site.root / "site" / "search" / "search_index.json").read_text())["docs"]
    guide_entries = [d for d in docs if d["location"].startswith("guide/")]
    others = [d for d in docs if not d["location"].startswith("guide/")]
    assert guide_entries and all(not d["text"].startswith("KEPT") for d in guide_entries)
    assert any("Searchable prose" in d["text"] for d in guide_entries)
    assert others and all(d["text"].startswith("KEPT") for d in others)
    # The file keeps this build's five pages: the guide's old entries are gone.
    assert len(json.loads(path.read_text())["pages"]) == 5


@pytest.mark.slow
def test_a_page_excluded_from_search_stays_out_and_a_damaged_file_means_indexing_anew(site):
    (site.root / "docs" / "hidden.md").write_text(
        "---\nsearch:\n  exclude: true\n---\n\n# Hidden\n\nNot in the index.\n")
    _search_file(site).write_text("{not json")
    for _ in range(2):
        build = site.build("-v", tool="properdocs")
        assert build.returncode == 0, build.stderr
        docs = json.loads((site.root / "site" / "search" / "search_index.json").read_text())
        assert not [d for d in docs["docs"] if d["location"].startswith("hidden/")]
        assert len(json.loads(_search_file(site).read_text())["pages"]) == 5
    assert _search_counts(build.stderr) == (5, 0)


@pytest.mark.slow
def test_a_site_without_the_search_plugin_builds_and_keeps_no_entries(site):
    config = load_config_file(site.root / "mkdocs.yml")
    config["plugins"] = [p for p in config["plugins"] if p != "search"]
    (site.root / "mkdocs.yml").write_text(yaml.dump(config, sort_keys=False))
    _search_file(site).unlink()
    build = site.build("-v", tool="properdocs")
    assert build.returncode == 0, build.stderr
    assert _search_counts(build.stderr) == (0, 0)
    assert not (site.root / "site" / "search" / "search_index.json").exists()


@pytest.mark.slow
def test_pages_come_from_the_cache_until_they_change(site):
    assert site.build().returncode == 0  # the topic's page now says "from the cache"
    # A mark put into every kept page shows on every built page: none was converted again.
    path = _pages_file(site)
    stored = json.loads(path.read_text())
    assert len(stored["pages"]) == 5
    for entry in stored["pages"].values():
        entry["html"] = "<!--kept-->" + entry["html"]
    path.write_text(json.dumps(stored))
    assert site.build().returncode == 0
    marked = {page for page, html in _outputs(site).items() if b"<!--kept-->" in html}
    assert marked == {"index.html", "guide/index.html", "other/index.html",
                      "untitled/index.html", "topics/double/index.html"}

    guide = site.root / "docs" / "guide.md"
    guide.write_text(guide.read_text().replace("Prose with", "Edited prose with"))
    assert site.build().returncode == 0
    marked = {page for page, html in _outputs(site).items() if b"<!--kept-->" in html}
    assert marked == {"index.html", "other/index.html", "untitled/index.html",
                      "topics/double/index.html"}
    assert "Edited prose" in site.html("guide")
    assert len(json.loads(path.read_text())["pages"]) == 5


@pytest.mark.slow
def test_a_broken_link_warns_on_every_build(site):
    (site.root / "docs" / "broken.md").write_text("# Broken\n\nSee [this](nowhere.md).\n")
    message = "Doc file 'broken.md' contains a link 'nowhere.md'"
    lenient = site.build(strict=False)
    assert lenient.returncode == 0 and message in lenient.stderr
    for _ in range(2):  # the other pages come from the cache now; the broken one does not
        strict = site.build()
        assert strict.returncode != 0 and message in strict.stderr


@pytest.mark.slow
def test_a_link_to_a_missing_anchor_warns_on_a_warm_build(site):
    config = load_config_file(site.root / "mkdocs.yml")
    config["validation"] = {"anchors": "warn"}
    (site.root / "mkdocs.yml").write_text(yaml.dump(config, sort_keys=False))
    (site.root / "docs" / "links.md").write_text(
        "# Links\n\n[gone](other.md#missing), [there](other.md#present-heading)\n")
    message = "does not contain an anchor '#missing'"
    first = site.build("-v", tool="properdocs", strict=False)
    assert first.returncode == 0 and message in first.stderr
    warm = site.build("-v", tool="properdocs", strict=False)
    assert _counts(warm.stderr) == (6, 0)
    assert message in warm.stderr and "#present-heading'" not in warm.stderr
    strict = site.build(tool="properdocs")
    assert strict.returncode != 0 and message in strict.stderr


@pytest.mark.slow
def test_a_corrupt_cache_file_is_rendered_anew(site):
    _pages_file(site).write_text("{not json")
    build = site.build("-v", tool="properdocs")
    assert build.returncode == 0, build.stderr
    assert "Rendering every page" in build.stderr and "unreadable" in build.stderr
    assert len(json.loads(_pages_file(site).read_text())["pages"]) == 5
