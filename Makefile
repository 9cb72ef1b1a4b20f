# assocmem: build, test and reproduce.
#
#   make reproduce   create .venv, install, run every experiment (quick preset), write results/REPORT.md
#   make test        create .venv, install, run the test suite
#   make bench       run the benchmarks (results/benchmarks.json)
#
# Overridable: PYTHON, PRESET, RESULTS, DATA_DIR (prepared tfds data for seed 000), PYTEST_ARGS, EXPERIMENTS, e.g.
#   make test-all                      (the slow tests too: paper presets, long training)
#   make test PYTEST_ARGS='-q -n 0'
#   make reproduce PRESET=paper
#   make reproduce EXPERIMENTS=table1,capacity     (a subset of the registered experiments)
#
# PRESET is passed to every experiment script as --preset:
#   quick  small sizes for a CPU (Table 1: the reproducing variant, Hebbian diagonal kept, 50 repeats)
#   paper  the paper's stated settings at full size (Table 1: zero diagonal as in §2.1, 100 repeats;
#          its classic column then lies ~0.3 below the published one, see docs/reproduction.md)
# Table 1's full-size reproducing variant is `scripts/table1.py --preset=reproduce` (its own preset;
# the other scripts have only quick and paper; `make reproduce PRESET=reproduce` runs Table 1 alone and
# skips the experiments without that preset).

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DELETE_ON_ERROR:
.DEFAULT_GOAL := test

# Interpreter used only to create the venv: python3.11 if on PATH, python3 otherwise.
PYTHON ?= $(shell command -v python3.11 >/dev/null 2>&1 && echo python3.11 || echo python3)

VENV       := .venv
PY         := $(VENV)/bin/python
PIP        := $(VENV)/bin/pip
VENV_STAMP := $(VENV)/.installed

RESULTS     ?= results
PRESET      ?= quick
PYTEST_ARGS ?= -q -n 2 -m "not slow"

EXPERIMENTS ?=

# Every experiment of the registry (assocmem/experiments/registry.py), in its order, then REPORT.md;
# EXPERIMENTS (comma-separated names) runs a subset. Adding an experiment needs no change here.
REPRODUCE_CMD = $(PY) scripts/reproduce.py --preset=$(PRESET) --results_dir=$(RESULTS) \
  $(if $(DATA_DIR),--data_dir=$(DATA_DIR)) $(if $(EXPERIMENTS),--experiments=$(EXPERIMENTS))
BENCH_CMD  = $(PY) scripts/benchmark.py --out=$(RESULTS)/benchmarks.json

.PHONY: venv .venv test test-all reproduce bench clean distclean

venv .venv: $(VENV_STAMP)

# Re-runs whenever the package metadata changes; otherwise a no-op.
$(VENV_STAMP): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -c 'import sys; sys.exit("assocmem needs Python >= 3.11, $(VENV) has " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PIP) install --upgrade pip
	$(PIP) install -e '.[test]'
	touch $@

test: $(VENV_STAMP)
	$(PY) -m pytest $(PYTEST_ARGS) tests

# Everything, the slow paper-preset and long-training tests included.
test-all: $(VENV_STAMP)
	$(PY) -m pytest -q -n 2 tests

reproduce: $(VENV_STAMP)
	$(REPRODUCE_CMD)

bench: $(VENV_STAMP)
	mkdir -p $(RESULTS)
	$(BENCH_CMD)

clean:
	rm -rf $(RESULTS) build dist .pytest_cache *.egg-info
	find . -path ./$(VENV) -prune -o -path ./.git -prune -o \
	  \( -name __pycache__ -o -name '*.egg-info' \) -type d -print0 | xargs -0 -r rm -rf

distclean: clean
	rm -rf $(VENV)
