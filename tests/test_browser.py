"""A real browser on a real build: Debian's Chromium, driven headless by Playwright.

Skipped, saying why, on a machine without Chromium or Chrome; in CI (CI=true), where .ci/run
installs it, a missing browser is a failure instead.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator

import pytest

from build_hooks.core.host import BROWSERS, find_chromium

pytestmark = pytest.mark.slow

CHROMIUM = find_chromium()
# A closed network: no background connections, no component updates (see the env notes).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def _require_chromium() -> None:
    if CHROMIUM:
        return
    message = ("no Chromium or Chrome found (CHROME_PATH, or one of "
               f"{', '.join(BROWSERS)} on the PATH; apt-get install chromium); the browser "
               "test needs it")
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def served_site(tmp_path_factory) -> Iterator[str]:
    _require_chromium()
    from .conftest import make_site

    root = tmp_path_factory.mktemp("browser") / "project"
    both = "# Both\n\n{{ topic double }}\n\n{{ topic returns_scalar }}\n"
    # Headed with its topic's title, as the site's topic pages are: the home page's table, the
    # other place the title appears, is left out of search.
    double = "# Doubling a vector\n\nProse.\n\n{{ topic double }}\n"
    site = make_site(root, ["double", "returns_scalar"],
                     pages={"both.md": both, "topics/double.md": double})
    build = site.build()
    assert build.returncode == 0, build.stderr
    handler = functools.partial(_QuietHandler, directory=str(site.root / "site"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        shutil.rmtree(root, ignore_errors=True)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass


@pytest.fixture(scope="module")
def browser(served_site):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser, served_site):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.problems = []
    tab.on("console", lambda message: tab.problems.append(f"console {message.type}: "
                                                           f"{message.text}")
           if message.type in ("error", "warning") else None)
    tab.on("pageerror", lambda error: tab.problems.append(f"page error: {error}"))
    tab.on("requestfailed", lambda request: tab.problems.append(
        f"request failed: {request.url}"))
    yield tab
    context.close()


@pytest.mark.parametrize("path", ["/", "/topics/double/", "/both/"])
def test_pages_load_without_console_errors_or_outside_requests(page, served_site, path):
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(served_site + path)
    page.wait_for_load_state("networkidle")
    assert page.problems == []
    outside = [url for url in requested if not url.startswith(served_site)]
    assert outside == []


def test_choosing_jax_in_one_tab_block_switches_the_others(page, served_site):
    page.goto(served_site + "/both/")
    blocks = page.locator(".tabbed-set")
    assert blocks.count() == 2

    def selected(block_index: int) -> str:
        block = blocks.nth(block_index)
        checked = block.locator("input:checked").get_attribute("id")
        return block.locator(f'label[for="{checked}"]').inner_text().strip()

    assert [selected(0), selected(1)] == ["PyTorch", "PyTorch"]
    blocks.nth(0).locator("label", has_text="JAX").click()
    page.wait_for_timeout(300)
    assert [selected(0), selected(1)] == ["JAX", "JAX"]
    panels = blocks.nth(1).locator(".tabbed-block")
    assert panels.nth(1).is_visible() and not panels.nth(0).is_visible()
    assert "snippets/returns_scalar/jax.py" in panels.nth(1).inner_text()
    # The choice is remembered across pages (Material keeps it in local storage).
    page.goto(served_site + "/topics/double/")
    assert selected_label(page) == "JAX"


def selected_label(page) -> str:
    block = page.locator(".tabbed-set").first
    checked = block.locator("input:checked").get_attribute("id")
    return block.locator(f'label[for="{checked}"]').inner_text().strip()


def test_chart_is_visible_with_its_text_alternative_in_each_palette(page, served_site):
    page.goto(served_site + "/topics/double/")
    light = page.locator('figure.comparison-chart img[src*="-light.svg"]').first
    dark = page.locator('figure.comparison-chart img[src*="-dark.svg"]').first
    light.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                           arg=light.element_handle())
    assert light.is_visible() and not dark.is_visible()
    box = light.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 150
    assert light.get_attribute("alt") == "Median time per call against n"
    caption = page.locator("figure.comparison-chart figcaption").first.inner_text()
    assert "JAX · 2 * x" in caption
    # Switch Material to its dark palette: the dark drawing replaces the light one.
    page.locator('label[for="__palette_1"]').click()
    page.wait_for_timeout(300)
    assert dark.is_visible() and not light.is_visible()


def test_search_finds_a_topic_by_name(page, served_site):
    page.goto(served_site + "/")
    search = page.locator("input.md-search__input")
    search.click()
    search.press_sequentially("Doubling", delay=30)  # Material searches on key events
    results = page.locator(".md-search-result__item")
    results.first.wait_for(timeout=15000)
    assert "Doubling a vector" in results.first.inner_text()
    assert "topics/double/" in results.first.locator("a").first.get_attribute("href")


@pytest.mark.parametrize("path", ["/topics/double/", "/both/"])
def test_timing_tables_fit_a_laptop_screen(page, served_site, path):
    # At 1280 px, Material shows both sidebars; a table wider than the column would scroll,
    # hiding the verdict column at its right end.
    page.goto(served_site + path)
    page.wait_for_load_state("networkidle")
    widths = page.evaluate("""() => [...document.querySelectorAll('article table')]
        .filter(table => !table.closest('.highlight'))
        .map(table => [table.getBoundingClientRect().right,
                       table.closest('.md-typeset__scrollwrap').getBoundingClientRect().right,
                       table.querySelector('th:last-child').innerText])""")
    assert widths and all(header == "Verdict" for _, _, header in widths)
    assert all(right <= limit + 1 for right, limit, _ in widths), widths


def test_code_blocks_have_copy_buttons(page, served_site):
    page.goto(served_site + "/topics/double/")
    # Material 9.8 puts the copy button in the code block's nav (older releases: .md-clipboard).
    buttons = page.locator('button.md-code__button[title="Copy to clipboard"], '
                           "button.md-clipboard")
    buttons.first.wait_for(state="attached", timeout=10000)
    assert buttons.count() >= 2
