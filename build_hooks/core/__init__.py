"""What both processes use: the standard library only, no framework, no MkDocs.

Statistics, atomic writes, the host's description, formatting of numbers, versioned JSON files
and the worker protocol's messages.
"""

from __future__ import annotations

from collections.abc import Callable

Log = Callable[[str], None]
"""Where a step reports progress: one line of text per call (the MkDocs log, a terminal)."""
