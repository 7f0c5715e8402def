"""External tools some tests need, and what a test does when one is missing.

`make test` runs `scripts/install-tools.sh`, which installs these where it can (root and the
package registries). Without root it cannot install Debian's packages; the tests that need a
missing tool are then skipped with the reason, so a user's clone still passes everything it
can run. Set `FINOPS_TEST_REQUIRE_TOOLS=1` (CI does, see `.ci/run`) to turn every such skip into
a failure, or name the tools you asked for, e.g. `FINOPS_TEST_REQUIRE_TOOLS=chromium,postgresql`.
"""

import glob
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

# tool -> (how to tell it is there, what installs it)
_INSTALLERS = {
    "chromium": "Debian's chromium (apt-get install chromium, needs root)",
    "postgresql": "Debian's postgresql server (apt-get install postgresql, needs root)",
    "azurite": "npm azurite@3.35.0 in .venv-tools/npm (needs node and npm: apt-get, needs root)",
    "checkov": "checkov 3.3.30 in .venv-tools (pip)",
    "focus-validator": "focus-validator 2.2.1 in .venv-focus (needs a Python 3.12 interpreter)",
}


# Debian's chromium, headless, as scripts/install-tools.sh installs it (no sandbox in a container).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def launch_chromium(playwright: Any) -> Any:
    """Debian's chromium launched headless by Playwright (skipped or failed as `require_tool`)."""
    executable = require_tool("chromium")
    return playwright.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS)


def tool_path(tool: str) -> Path | None:
    """Where `tool` is on this machine, or None."""
    candidates: list[str | None]
    if tool == "chromium":
        candidates = ["/usr/bin/chromium", shutil.which("chromium")]
    elif tool == "postgresql":
        candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    elif tool == "azurite":
        candidates = [str(REPO_ROOT / ".venv-tools/npm/node_modules/.bin/azurite-blob")]
    elif tool == "checkov":
        candidates = [str(REPO_ROOT / ".venv-tools/bin/checkov")]
    elif tool == "focus-validator":
        candidates = [str(REPO_ROOT / ".venv-focus/bin/focus-validator")]
    else:
        raise ValueError(f"unknown tool {tool!r}; known: {sorted(_INSTALLERS)}")
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return Path(candidate)
    return None


def required_tools() -> set[str]:
    """The tools whose absence must fail the tests instead of skipping them."""
    value = os.environ.get("FINOPS_TEST_REQUIRE_TOOLS", "").strip().lower()
    if value in {"1", "true", "yes", "all"}:
        return set(_INSTALLERS)
    return {name.strip() for name in value.split(",") if name.strip()}


def require_tool(tool: str) -> Path:
    """The tool's path; skips the calling test when it is missing (fails when it was required)."""
    path = tool_path(tool)
    if path is not None:
        return path
    reason = (
        f"{tool} is not installed here ({_INSTALLERS[tool]}); "
        "run scripts/install-tools.sh as root to run this test"
    )
    if tool in required_tools():
        pytest.fail(f"FINOPS_TEST_REQUIRE_TOOLS asks for {tool}, but {reason}", pytrace=False)
    pytest.skip(reason)
