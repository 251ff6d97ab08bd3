"""mkdocs-gen-files script: the files this build generates for the site: results.json,
results.csv, and each chart drawn for the light and the dark palette."""

from __future__ import annotations

import json

import mkdocs_gen_files

from build_hooks.docs_build import session
from build_hooks.render.csv_export import csv_text

site = session.site()
data = site.document()
with mkdocs_gen_files.open("results.json", "w") as stream:
    # One write of the C encoder's output: json.dump() to a stream writes piece by piece.
    stream.write(json.dumps(data, separators=(",", ":")))
with mkdocs_gen_files.open("results.csv", "w") as stream:
    stream.write(csv_text(data))
for machine in site.machines:
    for chart in (chart for charts in machine.charts.values() for chart in charts):
        for scheme in ("light", "dark"):
            with mkdocs_gen_files.open(chart.path(scheme), "w") as stream:
                stream.write(chart.themed(scheme))
