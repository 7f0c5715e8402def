"""The fast subset of `make chaos`: a duplicated file, and kill -9 right after a Delta commit.

Real child processes, a real Dagster instance, real Delta tables in a temp folder; the kill is a
real SIGKILL. The whole suite is `make chaos`.
"""

from pathlib import Path

import pytest

from finops_assets_tests.chaos.__main__ import run_faults
from finops_assets_tests.chaos.faults import FAST_FAULTS


@pytest.mark.slow
def test_fast_faults_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    rows = run_faults(tmp_path, FAST_FAULTS, days=1, rows_per_day=200)
    assert [(row.fault, row.lost, row.duplicated, row.honest) for row in rows] == [
        ("duplicated file", "0", "0", True),
        ("kill -9: normalize commit done", "0", "0", True),
    ], [row.note for row in rows]
