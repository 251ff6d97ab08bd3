"""Build-time machinery of the JAX-vs-PyTorch comparison site.

Data flows one way: discover topics -> look up the cache -> run what is missing in one worker
process per framework -> store results -> render Markdown -> MkDocs renders HTML. Nothing in this
package imports jax or torch except `worker` and `frameworks`, which only run inside workers.
"""

from __future__ import annotations

# Bump when a change to the harness can change a number: it is part of every cache key, and of
# the results files. (The source of the worker-side modules is in the key too: see store.py.)
HARNESS_VERSION = "4"

FRAMEWORKS = ("jax", "pytorch")
FRAMEWORK_LABELS = {"jax": "JAX", "pytorch": "PyTorch"}
