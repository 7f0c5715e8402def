#!/usr/bin/env bash
# Tools some tests need beside .venv, installed idempotently (nothing happens when present):
#   chromium         Debian package (root)        finops_assets_tests/ui/ (Playwright drives it)
#   postgresql       Debian package (root)        finops_assets_tests/scale/ (Dagster on PostgreSQL)
#   azurite          npm, in .venv-tools/npm      Azure Blob tests (needs node + npm: Debian, root)
#   focus-validator  pip, in .venv-focus          FOCUS conformance (needs a Python 3.12)
#   checkov          pip, in .venv-tools          Terraform checks (its pins clash with dagster's)
# A tool that cannot be installed here (no root, no Python 3.12) is reported and skipped, and
# the tests that need it are skipped with that reason (finops_assets_tests/tools.py). With
# FINOPS_TEST_REQUIRE_TOOLS set (CI sets it to 1) a missing tool fails this script instead.
set -uo pipefail
cd "$(dirname "$0")/.."
MISSING=()
is_root() { [ "$(id -u)" = 0 ]; }
apt_install() {  # apt_install PACKAGE...: Debian packages, only as root
    if ! is_root; then
        return 1
    fi
    if [ -z "${APT_UPDATED:-}" ]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq && APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

command -v chromium >/dev/null || apt_install chromium || MISSING+=("chromium (apt-get, needs root)")

ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || apt_install postgresql \
    || MISSING+=("postgresql (apt-get, needs root)")

AZURITE_VERSION=3.35.0
if ! grep -qs "\"version\": \"$AZURITE_VERSION\"" .venv-tools/npm/node_modules/azurite/package.json; then
    if command -v npm >/dev/null || apt_install nodejs npm; then
        npm install --prefix .venv-tools/npm --no-audit --no-fund --silent "azurite@$AZURITE_VERSION" \
            || MISSING+=("azurite (npm install failed)")
    else
        MISSING+=("azurite (needs node and npm: apt-get, needs root)")
    fi
fi

PY="${PY:-$(command -v python3.11 || command -v python3)}"
# focus-validator 2.2.1 needs Python 3.12+ and pins numpy<2, which its pyarrow cannot use, so
# numpy>=2 is added after it.
FOCUS_VALIDATOR_VERSION=2.2.1
FOCUS_VENV=.venv-focus
focus_installed() {
    "$FOCUS_VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("focus-validator"))' 2>/dev/null
}
install_focus_validator() {
    local py312=""
    # A pyenv shim may exist without a usable 3.12 behind it: take the first that runs.
    for candidate in ${PY312:-} python3.12 /root/.pyenv/versions/3.12.*/bin/python3.12 \
        "$HOME"/.pyenv/versions/3.12.*/bin/python3.12 /usr/bin/python3.12; do
        if "$candidate" -c 'import sys; assert sys.version_info >= (3, 12)' 2>/dev/null; then
            py312="$candidate"
            break
        fi
    done
    [ -n "$py312" ] || return 1
    test -x "$FOCUS_VENV/bin/python" || "$py312" -m venv "$FOCUS_VENV" || return 1
    "$FOCUS_VENV/bin/python" -m pip install --quiet --upgrade pip &&
        "$FOCUS_VENV/bin/python" -m pip install --quiet "focus-validator==$FOCUS_VALIDATOR_VERSION" &&
        { "$FOCUS_VENV/bin/python" -m pip install --quiet "numpy>=2" 2>/dev/null || true; } &&
        (cd "$FOCUS_VENV" && bin/focus-validator --help >/dev/null)  # it logs to its cwd
}
if ! { [ -x "$FOCUS_VENV/bin/focus-validator" ] && [ "$(focus_installed)" = "$FOCUS_VALIDATOR_VERSION" ]; }; then
    install_focus_validator || MISSING+=("focus-validator (needs python3.12; set PY312=/path/to/python3.12)")
fi

CHECKOV_VERSION=3.3.30
checkov_installed() {
    .venv-tools/bin/python -c 'import importlib.metadata as m; print(m.version("checkov"))' 2>/dev/null
}
if ! { [ -x .venv-tools/bin/checkov ] && [ "$(checkov_installed)" = "$CHECKOV_VERSION" ]; }; then
    { test -x .venv-tools/bin/python || "$PY" -m venv .venv-tools; } &&
        .venv-tools/bin/python -m pip install --quiet --upgrade pip &&
        .venv-tools/bin/python -m pip install --quiet "checkov==$CHECKOV_VERSION" ||
        MISSING+=("checkov (pip install failed)")
fi

if [ ${#MISSING[@]} -gt 0 ]; then
    for tool in "${MISSING[@]}"; do
        echo "install-tools: not installed: $tool; the tests that need it will be skipped" >&2
    done
    if [ -n "${FINOPS_TEST_REQUIRE_TOOLS:-}" ]; then
        echo "install-tools: FINOPS_TEST_REQUIRE_TOOLS is set, so a missing tool is an error" >&2
        exit 1
    fi
fi
exit 0
