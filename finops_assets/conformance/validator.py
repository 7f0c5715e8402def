"""Run the FinOps Foundation's focus-validator (its own Python 3.12 venv) and read its verdict.

The validator exits 0 even when rules fail, so the verdict is read from its report:
`Total: N | Pass: N | Fail: N | Skipped: N`, then one line per rule (`❌ RULE-ID: FAILED ...`).
It opens `focus_validator/rules/currency_codes.csv` by a relative path, so it runs from its
site-packages directory.
"""

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

FOCUS_VERSION = "1.2.0.1"
FOCUS_DATASET = "CostAndUsage"
# Installed by scripts/install-tools.sh beside the project venv (the package is installed editable).
DEFAULT_VENV = Path(__file__).resolve().parents[2] / ".venv-focus"
_TOTALS = re.compile(
    r"Total:\s*(\d+)\s*\|\s*Pass:\s*(\d+)\s*\|\s*Fail:\s*(\d+)\s*\|\s*Skipped:\s*(\d+)"
)
_FAILED_RULE = re.compile(r"^\S*\s*([A-Za-z]+-[A-Z]-\d{3}-[A-Z]):\s*FAIL\b", re.MULTILINE)


class FocusValidatorMissingError(RuntimeError):
    """The validator's venv is not installed (run scripts/install-tools.sh)."""


@dataclass(frozen=True)
class ValidatorReport:
    """The validator's counts and the ids of the rules that failed."""

    total: int
    passed: int
    failed: int
    skipped: int
    failed_rules: tuple[str, ...] = field(default=())
    output: str = field(default="", repr=False)


def parse_validator_output(text: str) -> ValidatorReport:
    """The validator's console report -> counts and failed rule ids (sorted)."""
    totals = _TOTALS.search(text)
    if totals is None:
        raise ValueError(f"focus-validator printed no totals line:\n{text[-2000:]}")
    total, passed, failed, skipped = (int(g) for g in totals.groups())
    rules = tuple(sorted(set(_FAILED_RULE.findall(text))))
    return ValidatorReport(total, passed, failed, skipped, rules, text)


def site_packages(venv: Path = DEFAULT_VENV) -> Path:
    """The validator venv's site-packages directory (where it must run from)."""
    found = sorted(venv.glob("lib/python3.*/site-packages/focus_validator"))
    if not found or not (venv / "bin" / "focus-validator").exists():
        raise FocusValidatorMissingError(
            f"focus-validator is not installed in {venv}: run `bash scripts/install-tools.sh`"
        )
    return found[-1].parent


def run_focus_validator(
    data_file: Path, venv: Path = DEFAULT_VENV, timeout_s: float = 600
) -> ValidatorReport:
    """Validate one CSV or Parquet FOCUS dataset against FOCUS 1.2 (CostAndUsage), offline."""
    command = [
        str(venv / "bin" / "focus-validator"),
        "--data-file",
        str(Path(data_file).resolve()),
        "--validate-version",
        FOCUS_VERSION,
        "--focus-dataset",
        FOCUS_DATASET,
        "--block-download",
    ]
    # A fixed argv (our tools venv's interpreter and constants), no shell: nothing untrusted.
    done = subprocess.run(  # noqa: S603
        command,
        cwd=site_packages(venv),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"focus-validator exited {done.returncode} on {data_file}:\n{done.stderr[-2000:]}"
        )
    return parse_validator_output(done.stdout)
