"""From results to Markdown and files: page fragments (`fragments`), the sections a directive
expands to (`sections`), the directives themselves (`directives`), charts, highlighted code kept
between builds (`highlight`), and results.csv (`csv_export`). Pure functions of the results: no
code runs here and no framework is imported."""
