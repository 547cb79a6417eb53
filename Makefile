# Two commands do all the set-up: `make run` (main job on the embedded sample) and `make test`.
# `make run` installs only what a run needs; `make test` adds the dev extras (pytest, Beam's GCP extra for the
# Dataflow translation test, datatrove's extras for the benchmark, the Parquet readers the output is tested with).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# Test workers: one per core (pytest-xdist); `make test WORKERS=0` runs in one process.
WORKERS ?= auto

.PHONY: run test bench-smoke lint clean

$(VENV)/.venv-created:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip   # the machine's pip 23 skips lxml[html_clean]
	touch $@

$(VENV)/.installed-run: pyproject.toml $(VENV)/.venv-created
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.venv-created
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(PY) -m pipeline run --runner=DirectRunner --overwrite

test: $(VENV)/.installed
	$(PY) -m pytest -q -n $(WORKERS)

# The 1k-document benchmark as a smoke run (no timing assertions; ~6 min); CI runs it after the tests.
bench-smoke: $(VENV)/.installed
	$(PY) -m pytest -q benchmarks/test_smoke.py

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) output/sample
