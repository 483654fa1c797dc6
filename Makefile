# make demo | make test | make lint | make bench
# Everything runs inside .venv, created on first use, so a fresh clone needs nothing installed by hand.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
PIP    := $(PY) -m pip --disable-pip-version-check -q

.PHONY: demo test lint bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip setuptools wheel

# Stamp files: reinstall only when the package metadata changes.
$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP) install -e '.[pareto]'
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PIP) install -e '.[dev]'
	touch $@ $(VENV)/.installed

# The demo scores the shipped rollouts (math, code, puzzles; written by examples/make_rollouts.py)
# and summarises them with plots under out/.
demo: $(VENV)/.installed
	$(BIN)/moreward --version
	$(BIN)/moreward check examples/demo.toml
	$(PY) examples/quickstart.py
	@mkdir -p out
	$(BIN)/moreward score examples/rollouts.jsonl -c examples/demo.toml -o out/rollouts.scored.jsonl --errors out/rollouts.errors.jsonl
	$(BIN)/moreward summary out/rollouts.scored.jsonl -c examples/demo.toml --plot out/plots
	@echo "demo: scored rollouts in out/rollouts.scored.jsonl; plots in out/plots/"

# pytest exits 5 when it collects no test: that is a failure here, never a green run.
test: $(VENV)/.installed-dev
	$(PY) -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; fi; \
	exit $$rc

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check moreward tests benchmarks
	$(BIN)/mypy

bench: $(VENV)/.installed-dev
	@for b in benchmarks/*_bench.py; do echo "== $$b"; $(PY) $$b || exit $$?; done

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
