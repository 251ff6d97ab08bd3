"""Versioned JSON files: every file this project writes carries its `format` and `schema_version`
(as asv's do), is written atomically, and is read back only when both match.

`read_versioned` never raises for a bad file: it returns None and the problem in words, and the
caller decides what follows (measure again, skip the file, fail the page).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from build_hooks.core.atomic import write_atomically


def write_versioned(path: Path, file_format: str, schema: int, data: dict[str, Any],
                    indent: int | None = 1) -> dict[str, Any]:
    """Write `data` under the header; returns the document as written."""
    document = {"format": file_format, "schema_version": schema, **data}
    write_atomically(path, json.dumps(document, indent=indent))
    return document


def read_versioned(path: Path, file_format: str, schema: int,
                   what: str = "file") -> tuple[dict[str, Any] | None, str]:
    """The document, or None and why it cannot be used ("missing", unreadable, another format,
    another schema). `what` names the kind of file in the message."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, "missing"
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        return None, f"is unreadable ({error})"
    if not isinstance(data, dict) or data.get("format") != file_format:
        return None, f"is not a {what} of this project"
    if data.get("schema_version") != schema:
        return None, f"has schema {data.get('schema_version')}, this harness writes {schema}"
    return data, ""


def read_cache_table(path: Path, file_format: str, schema: int, what: str,
                     table: str) -> tuple[dict[str, Any], str | None]:
    """A build cache's one table (`table`, a JSON object) from a versioned file, or an empty
    one and why the file was not used (absent, unreadable, another format or schema)."""
    data, problem = read_versioned(path, file_format, schema, what)
    if data is None:
        return {}, (f"{path} does not exist yet" if problem == "missing"
                    else f"{path} {problem}")
    if not isinstance(data.get(table), dict):
        return {}, f"{path} is not a {what} of schema {schema}"
    return data[table], None
