"""mkdocs-gen-files script: the downloadable data of this build, results.json and results.csv."""

from __future__ import annotations

import json

import mkdocs_gen_files

from build_hooks import session
from build_hooks.results import csv_text

data = session.results().data
with mkdocs_gen_files.open("results.json", "w") as stream:
    # One write of the C encoder's output: json.dump() to a stream writes piece by piece.
    stream.write(json.dumps(data, separators=(",", ":")))
with mkdocs_gen_files.open("results.csv", "w") as stream:
    stream.write(csv_text(data))
