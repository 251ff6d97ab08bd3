"""The state of the build in progress, shared by the hook module and the gen-files script.

MkDocs keeps hook modules loaded across `serve` rebuilds, so nothing is computed at import time:
`begin()` starts each build afresh from `on_config`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mkdocs.exceptions import PluginError

from build_hooks.assemble.model import Site
from build_hooks.spec.settings import Settings


@dataclass
class BuildSession:
    settings: Settings
    site: Site | None = None
    shown_topics: set[str] = field(default_factory=set)


_current: list[BuildSession] = []


def begin(settings: Settings) -> BuildSession:
    _current[:] = [BuildSession(settings)]
    return _current[0]


def current() -> BuildSession:
    if not _current:
        raise PluginError("The comparison hooks did not run: add "
                          "'build_hooks/docs_build/hooks.py' under 'hooks:' in mkdocs.yml")
    return _current[0]


def site() -> Site:
    session = current()
    if session.site is None:
        raise PluginError("The comparison results are not ready: the run step (on_pre_build) "
                          "did not finish")
    return session.site
