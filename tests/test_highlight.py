"""The highlight cache: SuperFences' own HTML less the spans that change nothing on screen,
reused between builds."""

from __future__ import annotations

import json
import re
from pathlib import Path

import markdown
import material
import pytest
from pymdownx.superfences import highlight_validator

from build_hooks.render import highlight

PAGE = '''# Code

```python title="a.py" linenums="1"
def f(x):
    return x * 2
```

Text between.

```text
plain <output> & "quotes"
```

```python hl_lines="2"
import math
print(math.pi)
```

```{.python #named .extra data-kind="demo"}
x = 1
```

```nosuchlanguage
what is this
```

- A list item with a nested fence:

    ```python
    y = [1, 2, 3]
    ```

```python
def f(x):
    return x * 2
```
'''


def _converter(cached: bool, **highlight_options: object) -> markdown.Markdown:
    fences = {"custom_fences": [{
        "name": "*", "class": "highlight", "format": highlight.format_fence,
        "validator": highlight_validator,
    }]} if cached else {}
    return markdown.Markdown(
        extensions=["attr_list", "pymdownx.highlight", "pymdownx.superfences"],
        extension_configs={"pymdownx.highlight": {"anchor_linenums": False,
                                                  **highlight_options},
                           "pymdownx.superfences": fences})


@pytest.fixture
def cache(tmp_path: Path):
    highlight.CACHE.open(tmp_path / "highlight.json")
    yield highlight.CACHE
    highlight.CACHE.close()


@pytest.mark.parametrize("options", [
    {},
    # Line anchors and spans carry each block's number on the page: a reused block must not
    # shift the numbers of the blocks after it.
    {"line_anchors": "__codelineno", "line_spans": "__span", "linenums": True},
    {"linenums_style": "pymdownx-inline", "auto_title": True},
])
def test_same_html_as_superfences_cold_and_warm(cache, tmp_path, options):
    expected = highlight.slim(_converter(False, **options).convert(PAGE))
    cold = _converter(True, **options).convert(PAGE)
    assert cold == expected
    assert cache.misses == 7 and cache.hits == 0
    assert cache.close()
    assert cache.open(tmp_path / "highlight.json") is None
    warm = _converter(True, **options).convert(PAGE)
    assert warm == expected
    assert cache.hits == 7 and cache.misses == 0


def test_partly_cached_page_keeps_block_numbers(cache, tmp_path):
    options = {"line_anchors": "__codelineno", "linenums": True}
    _converter(True, **options).convert(PAGE)
    cache.close()
    cache.open(tmp_path / "highlight.json")
    edited = PAGE.replace("import math", "import cmath")  # one block changes, others are reused
    assert _converter(True, **options).convert(edited) == \
        highlight.slim(_converter(False, **options).convert(edited))
    assert cache.misses == 1 and cache.hits == 6


def test_settings_and_versions_are_in_the_key(cache, monkeypatch):
    _converter(True).convert(PAGE)
    assert cache.misses == 7
    _converter(True, linenums=True).convert(PAGE)  # other settings: highlighted again
    assert cache.misses == 14 and cache.hits == 0
    monkeypatch.setattr(highlight, "_VERSIONS", (*highlight._VERSIONS, "another Pygments"))
    _converter(True).convert(PAGE)
    assert cache.misses == 21 and cache.hits == 0


def test_a_block_holding_a_page_placeholder_is_never_reused(cache):
    # An HTML title goes to the page's own stash; its placeholder means nothing on another page.
    page = '```python title="<b>bold</b> title" title_mode="html"\nx = 1\n```\n'
    expected = highlight.slim(_converter(False).convert(page))
    assert "<b>bold</b>" in expected
    for _ in range(2):  # two pages with the same block
        assert _converter(True).convert(page) == expected
    assert cache.misses == 0 and cache.hits == 0 and not cache.blocks


def test_attribute_order_is_part_of_the_key(cache):
    first = '```{.python data-b="1" data-a="2"}\nx = 1\n```\n'
    second = '```{.python data-a="2" data-b="1"}\nx = 1\n```\n'
    for page in (first, second, first):
        assert _converter(True).convert(page) == highlight.slim(_converter(False).convert(page))
    assert cache.misses == 2 and cache.hits == 1


def test_the_file_keeps_only_the_blocks_of_the_latest_build(cache, tmp_path):
    path = tmp_path / "highlight.json"
    _converter(True).convert(PAGE)
    cache.close()
    assert len(json.loads(path.read_text())["blocks"]) == 7
    cache.open(path)
    _converter(True).convert("```python\nonly = 1\n```\n")
    assert cache.close()
    assert len(json.loads(path.read_text())["blocks"]) == 1
    cache.open(path)
    _converter(True).convert("```python\nonly = 1\n```\n")
    written = path.stat().st_mtime_ns
    assert not cache.close()  # nothing new: the file is left alone
    assert path.stat().st_mtime_ns == written


@pytest.mark.parametrize("content, problem", [
    (None, "does not exist yet"),
    ("{not json", "unreadable"),
    (b"\xff\xfe\x00", "unreadable"),
    (json.dumps({"format": "something else", "blocks": {}}), "not a highlight cache"),
    (json.dumps({"format": highlight.CACHE_FORMAT, "schema_version": 99, "blocks": {}}),
     "has schema 99"),
    (json.dumps([1, 2]), "not a highlight cache"),
])
def test_a_bad_or_missing_file_means_highlighting_everything(tmp_path, content, problem):
    path = tmp_path / "highlight.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    cache = highlight.CACHE
    assert problem in cache.open(path)
    try:
        assert _converter(True).convert(PAGE) == highlight.slim(_converter(False).convert(PAGE))
        assert cache.misses == 7
    finally:
        cache.close()
    assert len(json.loads(path.read_text())["blocks"]) == 7  # replaced by a good file


def test_damaged_entries_are_dropped_not_used(tmp_path):
    path = tmp_path / "highlight.json"
    path.write_text(json.dumps({"format": highlight.CACHE_FORMAT,
                                "schema_version": highlight.CACHE_SCHEMA,
                                "blocks": {"k": 5, "j": None}}))
    cache = highlight.CACHE
    assert cache.open(path) is None
    assert cache.blocks == {}
    cache.close()


def test_without_a_build_blocks_are_highlighted_and_kept_in_memory_only():
    assert highlight.CACHE.path is None  # as in a site without the hooks
    page = "```python\nz = 2\n```\n"
    assert _converter(True).convert(page) == highlight.slim(_converter(False).convert(page))
    assert _converter(True).convert(page) == highlight.slim(_converter(False).convert(page))
    assert not highlight.CACHE.close()  # no build: nothing written anywhere


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


def test_slim_blocks_keep_their_text_and_lose_only_name_and_whitespace_spans(cache):
    options = {"linenums": True}
    full = _converter(False, **options).convert(PAGE)
    slimmed = _converter(True, **options).convert(PAGE)
    assert '<span class="n">' in full and '<span class="w">' in full
    assert '<span class="n">' not in slimmed and '<span class="w">' not in slimmed
    assert _text(slimmed) == _text(full)  # what a reader sees, copies and searches
    # Every other span is still there, in order: keywords, functions, line numbers...
    kept = re.findall(r'<span class="([^"]*)">', full)
    assert re.findall(r'<span class="([^"]*)">', slimmed) == [c for c in kept if c not in "nw"]
    assert '<span class="nf">f</span>' in slimmed and '<span class="normal">' in slimmed


def _rules(css: str, selector: str) -> list[str]:
    """The declarations of every rule whose selector list names `selector` exactly."""
    found = []
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        if selector in [part.strip() for part in selectors.split(",")]:
            found.append(body)
    return found


def test_material_gives_name_and_whitespace_spans_no_look_of_their_own():
    """What makes unwrapping those spans invisible; a Material upgrade that styles them (or our
    stylesheet doing so) fails here, and slim() must then keep them."""
    assets = Path(material.__file__).parent / "templates" / "assets" / "stylesheets"
    sheets = {path.name: path.read_text() for path in assets.glob("*.min.css")}
    main = next(css for name, css in sheets.items() if name.startswith("main."))
    assert _rules(main, ".highlight .n") == ["color:var(--md-code-hl-name-color)"]
    for name, css in sheets.items():
        values = set(re.findall(r"--md-code-hl-name-color:([^;}]+)", css))
        assert values <= {"var(--md-code-fg-color)"}, (name, values)
        assert not re.search(r"\.(n|w)(?![\w-])", css.replace(".highlight .n{", "")), name
    # The code's own colour is what a name falls back to: the pre's code colour.
    assert "color:var(--md-code-fg-color)" in " ".join(_rules(main, ".md-typeset code"))
    ours = (Path(__file__).parents[1] / "docs" / "stylesheets" / "extra.css").read_text()
    assert "--md-code-hl-name-color" not in ours
    assert not re.search(r"\.(n|w)(?![\w-])", ours)
