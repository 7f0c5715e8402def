# The front door. `make demo` and `make test` create or update .venv by themselves.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

TOOLS_STAMP := .venv-tools/.installed-stamp

.PHONY: venv tools demo test lint dev bench clean focus-check

$(STAMP): pyproject.toml setup.cfg
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

# Linters that clash with the project's pins live in their own venv (checkov).
$(TOOLS_STAMP): scripts/install-tools.sh
	bash scripts/install-tools.sh
	@touch $(TOOLS_STAMP)

tools: $(TOOLS_STAMP)

demo: venv
	$(BIN)/finops demo

test: venv tools
	$(BIN)/pytest

lint: venv
	$(BIN)/ruff check finops_assets finops_assets_tests bench scripts
	$(BIN)/ruff format --check finops_assets finops_assets_tests bench scripts
	$(BIN)/mypy finops_assets

dev: venv
	$(BIN)/finops dev

bench: venv
	$(BIN)/python -m bench.run

clean:
	rm -rf .finops

# FOCUS 1.2 conformance of every provider's normalized rows (the FinOps Foundation's validator).
focus-check: venv tools
	$(BIN)/python -m finops_assets.conformance.check
