import sys

from build_hooks.tools.cli import main

sys.exit(main())
