#!/usr/bin/env bash
# Linters kept out of .venv because their pins clash with dagster's: checkov, in .venv-tools.
# Idempotent: does nothing when the pinned version is already there. The tests in
# finops_assets_tests/security/ run .venv-tools/bin/checkov and fail if it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-$(command -v python3.11 || command -v python3)}"
VENV=.venv-tools
CHECKOV_VERSION=3.3.30

installed() {
    "$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("checkov"))' 2>/dev/null
}
if [ -x "$VENV/bin/checkov" ] && [ "$(installed)" = "$CHECKOV_VERSION" ]; then
    exit 0
fi
test -x "$VENV/bin/python" || "$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet "checkov==$CHECKOV_VERSION"
"$VENV/bin/checkov" --version
