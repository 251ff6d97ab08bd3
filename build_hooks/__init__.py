"""Build-time machinery of the JAX-vs-PyTorch comparison site.

Data flows one way, one subpackage per step: `spec` (discover topics, settings) -> `records`
(look up the cache) -> `run` (measure what is missing, in one `worker` process per framework) ->
`records` (store) -> `assemble` (statistics, verdicts) -> `render` (Markdown, charts) -> MkDocs,
wired by `docs_build`. `pipeline` strings the steps together for the hooks and the command line
(`tools`); `core` is what every step shares. Only `worker` imports jax or torch, and only inside
the worker processes: tests/test_layout.py checks these boundaries from the imports.
"""

from __future__ import annotations

# Bump when a change to the harness can change a number: it is part of every cache key, and of
# the results files. (The source of worker/ and run/ is in the key too: see records/cache.py.)
HARNESS_VERSION = "4"

FRAMEWORKS = ("jax", "pytorch")
FRAMEWORK_LABELS = {"jax": "JAX", "pytorch": "PyTorch"}
