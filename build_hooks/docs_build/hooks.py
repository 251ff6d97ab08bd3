"""The MkDocs hook module: wires build events to the package, and nothing else.

Registered in mkdocs.yml under `hooks:`. It keeps no state of its own (MkDocs does not reload
hook modules on `serve`); the build in progress lives in `build_hooks.docs_build.session`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority

from build_hooks.assemble.diagnostics import site_problems
from build_hooks.docs_build import session
from build_hooks.pipeline import build_site
from build_hooks.render import highlight, page_cache, search_cache
from build_hooks.render.directives import DirectiveError, PageContext, expand_directives
from build_hooks.run.devices import DeviceMismatch
from build_hooks.spec.settings import load_settings
from build_hooks.spec.topics import TopicError

if TYPE_CHECKING:  # the livereload server module is not needed for a build
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.livereload import LiveReloadServer
    from mkdocs.structure.files import Files
    from mkdocs.structure.pages import Page

log = logging.getLogger("mkdocs.plugins.comparison")


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    session.begin(load_settings(config.extra, config.config_file_path))
    return config


def on_pre_build(config: MkDocsConfig) -> None:
    current = session.current()
    problem = highlight.CACHE.open(current.settings.cache_dir / "highlight" / "blocks.json")
    if problem:
        log.debug(f"Highlighting every code block: {problem}")
    problem = page_cache.CACHE.open(current.settings.cache_dir / "pages" / "pages.json")
    if problem:
        log.debug(f"Rendering every page: {problem}")
    problem = search_cache.CACHE.open(current.settings.cache_dir / "pages" / "search.json")
    if problem:
        log.debug(f"Indexing every page for search: {problem}")
    try:
        current.site = build_site(current.settings, log.info)
    except (TopicError, DeviceMismatch) as error:
        raise PluginError(str(error)) from None
    warnings, infos = site_problems(current.site, current.settings.allow_missing_frameworks)
    for message in infos:
        log.info(message)
    for message in warnings:
        log.warning(message)


@event_priority(-100)  # last: the page cache's key covers the Markdown that MkDocs renders
def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    current = session.current()
    pages = {f.src_uri for f in files.documentation_pages()}
    context = PageContext(uri=page.file.src_uri, pages=pages,
                          shown_topics=current.shown_topics,
                          project_dir=current.settings.project_dir)
    try:
        markdown = expand_directives(markdown, context, session.site)
    except DirectiveError as error:
        raise PluginError(str(error)) from None
    return page_cache.CACHE.before_render(markdown, page, config, files)


@event_priority(100)  # first: the page cache keeps the HTML exactly as MkDocs rendered it
def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    return page_cache.CACHE.after_render(html, page, files)


@event_priority(100)  # before Material's search plugin indexes the page
def on_page_context(context: dict, page: Page, config: MkDocsConfig, nav) -> dict:
    search_cache.CACHE.before_index(page, config)
    return context


def on_post_page(output: str, page: Page, config: MkDocsConfig) -> str:
    search_cache.CACHE.after_index(page)
    return output


def on_post_build(config: MkDocsConfig) -> None:
    search_cache.CACHE.close()
    log.debug(f"Pages indexed from the search cache: {search_cache.CACHE.hits}, "
              f"by the search plugin: {search_cache.CACHE.misses}")
    page_cache.CACHE.close()
    log.debug(f"Pages from the page cache: {page_cache.CACHE.hits}, "
              f"rendered: {page_cache.CACHE.misses}")
    highlight.CACHE.close()
    current = session.current()
    if current.site is None:
        return
    for topic in current.site.topics:
        if topic.name not in current.shown_topics:
            log.warning(f"Topic '{topic.name}' is on no page. Fix: create "
                        f"docs/topics/{topic.name}.md containing '{{{{ topic {topic.name} }}}}'")


def on_serve(server: LiveReloadServer, config: MkDocsConfig, builder) -> LiveReloadServer:
    server.watch(str(session.current().settings.snippets_dir))
    return server
