"""A worker process: `python -m build_hooks.worker --framework jax|pytorch ...` (see server)."""

import sys

from build_hooks.worker.server import main

sys.exit(main())
