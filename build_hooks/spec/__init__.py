"""What the build is asked to do: the topics found in `snippets/` (validated before anything
runs) and the settings under `extra.comparison` in mkdocs.yml."""
