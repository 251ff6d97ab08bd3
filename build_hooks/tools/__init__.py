"""The command line (`python -m build_hooks ...`): run, show, save, compare (`cli`), and the
checks behind make bench, make validate and make audit."""
