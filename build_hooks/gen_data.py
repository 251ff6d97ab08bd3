"""mkdocs-gen-files script: the downloadable data of this build (results.json)."""

from __future__ import annotations

import json

import mkdocs_gen_files

from build_hooks import session

with mkdocs_gen_files.open("results.json", "w") as stream:
    # One write of the C encoder's output: json.dump() to a stream writes piece by piece.
    stream.write(json.dumps(session.results().data, separators=(",", ":")))
