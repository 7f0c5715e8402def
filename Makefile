# The front door. `make demo` and `make test` create or update .venv by themselves.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

# `make dev FINOPS_UI_PORT=3100` (or the variable in the environment) moves the UI off 3000.
FINOPS_UI_PORT ?= 3000

.PHONY: venv tools demo test test-fast lint dev bench clean focus-check chaos

$(STAMP): pyproject.toml setup.cfg
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

# Tools some tests need beside .venv (chromium, postgresql, azurite, focus-validator, checkov):
# installed where possible, idempotently; what cannot be installed here is reported and the
# tests that need it are skipped (FINOPS_TEST_REQUIRE_TOOLS=1 makes that an error, as in CI).
tools:
	@bash scripts/install-tools.sh

demo: venv
	$(BIN)/finops demo

# Test files run on TEST_WORKERS parallel pytest workers (pytest-xdist, one file per worker at a
# time, so a file's module fixtures are built once; files are handed out in the order conftest.py
# sorts them, longest first: --no-loadscope-reorder keeps xdist from sorting them by test count);
# `make test TEST_WORKERS=0` runs in one process.
TEST_WORKERS ?= 2

test: venv tools
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

# The everyday loop: every test not marked slow (no whole-graph run, no real webserver or browser,
# no test that takes seconds); `make test` stays the full suite.
test-fast: venv
	$(BIN)/pytest -m "not slow" -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

# ruff's rule set includes S (flake8-bandit: bandit's security checks), see pyproject.toml.
lint: venv
	$(BIN)/ruff check finops_assets finops_assets_tests bench scripts
	$(BIN)/ruff format --check finops_assets finops_assets_tests bench scripts
	$(BIN)/mypy finops_assets

dev: venv
	FINOPS_UI_PORT=$(FINOPS_UI_PORT) $(BIN)/finops dev

bench: venv
	$(BIN)/python -m bench.run --chart docs/performance.png

clean:
	rm -rf .finops

# FOCUS 1.2 conformance of every provider's normalized rows (the FinOps Foundation's validator).
focus-check: venv tools
	$(BIN)/python -m finops_assets.conformance.check

# Fault injection on a small sample estate (loopback only, stops by itself, a few minutes): kill -9
# in every stage, duplicated/restated/truncated/torn files, concurrent runs, zero-sum days. Prints
# money lost and duplicated per fault; exits non-zero unless every row is 0, 0, honest.
chaos: venv
	$(BIN)/python -m finops_assets_tests.chaos
