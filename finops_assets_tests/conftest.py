"""Shared fixtures: where the public sample data lives, temp lakes and landing folders."""

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


PUBLIC_DATA = Path(__file__).resolve().parent / "public_data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real public billing samples and reference tables kept in the test tree.

    Origins and licences: `finops_assets_tests/public_data/SOURCES.md`.
    """
    return PUBLIC_DATA


@pytest.fixture(autouse=True)
def _ecb_feed_off_unless_asked(monkeypatch):
    """No test reaches the real ECB: the shipped seed only, unless a test points the feed at its
    own server on 127.0.0.1 (FINOPS_ECB_BASE_URL, or FxRatesResource(base_url=...))."""
    monkeypatch.setenv("FINOPS_ECB_BASE_URL", "off")


@pytest.fixture(autouse=True)
def _no_leaked_defs_state_storage():
    """Each test starts without a Dagster defs-state storage left over by an earlier test.

    Entering a DagsterInstance (instance_for_test, DagsterInstance.get() as a context manager)
    sets a context-wide defs-state storage holding a weak reference to that instance; an instance
    disposed in an earlier test's or module fixture's teardown leaves a dead reference behind,
    and a later test that resolves definitions then fails with "Attempted to resolve undefined
    DagsterInstance weakref". Dagster's own context manager scopes it to each test here.
    """
    from dagster._core.storage.defs_state.base import set_defs_state_storage

    with set_defs_state_storage(None):
        yield


# The longest files of the last measured full run, longest first (seconds of setup + calls in the
# clean-clone `.ci/run`, README "make test"). Only a scheduling hint: a renamed file falls back to
# the slow-first order below, and a stale figure changes when a file starts, not what it tests.
LONGEST_FILES_FIRST = (
    "topology/test_production_topology.py",
    "test_load_public_focus.py",
    "ui/test_operating_model.py",
    "test_load_public_koku.py",
    "test_load_azure_ea.py",
    "test_day_memo.py",
    "test_period_restatement.py",
    "ui/test_finance_flow.py",
    "scale/test_rate_limits.py",
    "test_instance_health.py",
    "ui/test_rule_change.py",
    "allocate/test_effective_dates.py",
    "scale/test_object_store_lake.py",
    "ui/test_stale_days.py",
    "chaos/test_chaos_fast.py",
    "scale/test_parallel_execution.py",
)


def pytest_collection_modifyitems(config, items):
    """The longest files run first, then the other files holding a `slow` test, then the rest;
    every file's tests keep their own order.

    `make test` runs files on parallel workers (pytest-xdist, `--dist loadfile`), which hand out
    files in collection order: a long file collected last (test_load_*.py sort after every
    folder) would start when the other worker has nothing left and set the suite's wall time.
    Starting the long files first leaves the many short files to fill the end. The order is the
    same in every worker (xdist requires it) since it depends only on the collected items.
    """
    here = Path(__file__).resolve().parent
    rank = {here / name: position for position, name in enumerate(LONGEST_FILES_FIRST)}
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}

    def order(item: pytest.Item) -> tuple[int, int]:
        if item.path in rank:
            return (0, rank[item.path])
        return (1, 0) if item.path in slow_files else (2, 0)

    items.sort(key=order)  # a stable sort: the order within a file is kept
