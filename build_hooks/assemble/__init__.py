"""From raw topic records to what the pages show: the results model (`model`), statistics,
verdicts and parity summaries derived from the raw samples on every build (`derive`), and what
the build log must say about them (`diagnostics`)."""
