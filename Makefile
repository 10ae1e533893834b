# napari-labelsuite: `make demo` and `make test` are all a newcomer needs.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | md5sum | cut -c1-8)
XVFB := xvfb-run -a -s "-screen 0 1600x1200x24"
PYTEST_ARGS ?=

.PHONY: demo test bench lint format venv clean screenshots

# A Python >= 3.12 when one is installed (current zarr and ome-zarr need it), else python3.
PYTHON_BIN := $(shell scripts/find_python.sh)

$(PY):
	$(PYTHON_BIN) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install -q -e ".[all,testing,assist,peers]"
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	@scripts/ensure_display.sh
	@if [ -n "$$DISPLAY" ]; then $(VENV)/bin/napari-labelsuite demo; \
	else $(XVFB) $(VENV)/bin/napari-labelsuite demo --screenshot demo.png && \
	     echo "No display: the demo window was rendered to demo.png"; fi

test: $(STAMP)
	@scripts/ensure_display.sh
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy
	$(VENV)/bin/npe2 validate napari-labelsuite --imports
	$(XVFB) $(PY) -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	@for b in benchmarks/[!_]*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks
	$(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff format src tests benchmarks
	$(VENV)/bin/ruff check --fix src tests benchmarks

screenshots: $(STAMP)
	@scripts/ensure_display.sh
	$(XVFB) $(PY) docs/make_screenshots.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
