"""The test process itself: what one test changes in it does not reach the next test's children.

Both guards live in conftest.py; these tests fail without them.
"""

import os
import signal
import subprocess
import sys

import dagster as dg

from finops_assets.settings import Settings


@dg.asset
def _one() -> int:
    return 1


def test_a_child_started_after_an_in_process_run_stops_on_sigterm() -> None:
    """Started with SIGINT ignored (a background job), pytest must still leave SIGTERM working."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # as a background job starts it
    try:
        from finops_assets_tests.conftest import pytest_configure

        pytest_configure(None)  # what pytest ran at start-up in this process
        assert dg.materialize([_one]).success  # Dagster remaps SIGTERM around the run
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        child.terminate()
        assert child.wait(timeout=20) == -signal.SIGTERM
    finally:
        signal.signal(signal.SIGINT, previous)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def test_1_a_test_that_prepares_an_instance_sets_dagster_home(tmp_path) -> None:
    from finops_assets.demo import prepare_instance

    settings = Settings.from_env({"FINOPS_HOME": str(tmp_path / "home")})
    with prepare_instance(settings):
        assert os.environ["DAGSTER_HOME"] == str(settings.dagster_home)


def test_2_the_next_test_does_not_see_that_dagster_home() -> None:
    assert "home/dagster" not in os.environ.get("DAGSTER_HOME", "")
