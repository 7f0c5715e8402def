#!/usr/bin/env bash
# Linters kept out of .venv because their pins clash with dagster's: checkov, in .venv-tools.
# Idempotent: does nothing when the pinned version is already there. The tests in
# finops_assets_tests/security/ run .venv-tools/bin/checkov and fail if it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
# Debian's chromium for the Dagster UI tests (finops_assets_tests/ui/, Python playwright).
# Before the checkov block below, which exits early once checkov is installed.
command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)
# Azurite (Azure Blob emulator) for finops_assets_tests/ingest/test_azure_blob_*.py, installed
# project-local under .venv-tools/npm. Before the checkov block below, which exits early.
AZURITE_VERSION=3.35.0
if ! grep -qs "\"version\": \"$AZURITE_VERSION\"" .venv-tools/npm/node_modules/azurite/package.json; then
    command -v npm >/dev/null || (apt-get update && apt-get install -y nodejs npm)
    npm install --prefix .venv-tools/npm --no-audit --no-fund --silent "azurite@$AZURITE_VERSION"
fi
PY="${PY:-$(command -v python3.11 || command -v python3)}"
# The FinOps Foundation's focus-validator (FOCUS conformance), in .venv-focus: it needs Python
# 3.12+ and pins numpy<2, which its pyarrow cannot use, so numpy>=2 is added after it. Idempotent.
FOCUS_VALIDATOR_VERSION=2.2.1
FOCUS_VENV=.venv-focus
focus_installed() {
    "$FOCUS_VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("focus-validator"))' 2>/dev/null
}
if ! { [ -x "$FOCUS_VENV/bin/focus-validator" ] && [ "$(focus_installed)" = "$FOCUS_VALIDATOR_VERSION" ]; }; then
    # A pyenv shim may exist without a usable 3.12 behind it: take the first that runs.
    for candidate in ${PY312:-} python3.12 /root/.pyenv/versions/3.12.*/bin/python3.12 \
        "$HOME"/.pyenv/versions/3.12.*/bin/python3.12; do
        if "$candidate" -c 'import sys; assert sys.version_info >= (3, 12)' 2>/dev/null; then
            PY312="$candidate"
            break
        fi
    done
    if [ -z "${PY312:-}" ]; then
        echo "install-tools: focus-validator needs python3.12 (set PY312=/path/to/python3.12)" >&2
        exit 1
    fi
    test -x "$FOCUS_VENV/bin/python" || "$PY312" -m venv "$FOCUS_VENV"
    "$FOCUS_VENV/bin/python" -m pip install --quiet --upgrade pip
    "$FOCUS_VENV/bin/python" -m pip install --quiet "focus-validator==$FOCUS_VALIDATOR_VERSION"
    "$FOCUS_VENV/bin/python" -m pip install --quiet "numpy>=2" 2>/dev/null
    (cd "$FOCUS_VENV" && bin/focus-validator --help >/dev/null)  # it logs to its cwd
fi
# PostgreSQL server binaries for the Dagster-on-PostgreSQL tests (finops_assets_tests/servers/
# postgres.py starts and stops its own server as the `postgres` user). Idempotent.
if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    else
        echo "install-tools: PostgreSQL is missing; run as root or apt-get install postgresql" >&2
        exit 1
    fi
fi
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
