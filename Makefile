# Each target sets up what it needs: a fresh clone runs `make site` or `make test` directly.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: site serve test bench validate audit save clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch is pinned in pyproject.toml to the CPU wheel this machine holds (no CUDA download).
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

## site: run every snippet that changed (or all, with COMPARISON_REFRESH=1) and build site/
site: $(STAMP)
	$(BIN)/properdocs build --strict -f mkdocs.yml

## serve: live preview on http://127.0.0.1:8000; re-runs only the topics you edit
serve: $(STAMP)
	$(BIN)/properdocs serve -f mkdocs.yml -a 127.0.0.1:8000

## test: the test suite (unit tests, real workers, real MkDocs builds of fixture sites)
test: $(STAMP)
	# Python may cache this package's bytecode, as it does on a reader's machine (some
	# sandboxes set PYTHONDONTWRITEBYTECODE; then every process of every test compiles it again).
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m pytest

## bench: build-time costs (warm rebuilds vs no hooks at 3 and all topics, serve edits, a quick
## cold build split by phase; BENCH_FULL=1 adds a full cold build)
bench: $(STAMP)
	$(BIN)/python -m build_hooks bench

## validate: re-time every topic (or TOPICS="a b") with torch.utils.benchmark and timeit, print the ratios
validate: $(STAMP)
	$(BIN)/python -m build_hooks validate $(TOPICS)

## save: measure what is missing, then write this machine's results to results/<machine>/
save: $(STAMP)
	$(BIN)/python -m build_hooks save

## audit: Lighthouse on the home page and the heaviest topic page (needs npm and a Chromium)
audit: site
	$(BIN)/python -m build_hooks audit

clean:
	rm -rf site .cache
