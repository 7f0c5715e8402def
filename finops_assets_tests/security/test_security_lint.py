"""`make lint` runs ruff's S rules (bandit's checks) over the package: clean, and able to fail."""

import subprocess
import sys
from pathlib import Path

import finops_assets

ROOT = Path(finops_assets.__file__).resolve().parents[1]
RUFF = Path(sys.executable).with_name("ruff")
UNSAFE = """import subprocess, yaml, pickle
def run(command: str, text: str, blob: bytes):
    subprocess.call(command, shell=True)
    pickle.loads(blob)
    return yaml.load(text, Loader=yaml.Loader)
"""


def _ruff(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(RUFF), "check", "--output-format", "concise", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_the_security_rules_fail_on_unsafe_code_in_the_package() -> None:
    done = _ruff("--stdin-filename", "finops_assets/unsafe_example.py", "-", stdin=UNSAFE)
    assert done.returncode == 1
    for code in ("S602", "S301", "S506"):  # shell=True, pickle, yaml.load
        assert code in done.stdout, done.stdout


def test_the_package_is_clean_under_the_security_rules() -> None:
    done = _ruff("--select", "S", "finops_assets")
    assert done.returncode == 0, done.stdout
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "ruff check finops_assets" in makefile
    assert '"S"]' in (ROOT / "pyproject.toml").read_text(encoding="utf-8")
