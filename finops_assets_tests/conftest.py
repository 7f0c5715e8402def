"""Shared fixtures: where the public sample data lives, temp lakes and landing folders."""

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
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


def pytest_configure(config):
    """SIGINT handled, even when pytest started with it ignored (a background job of a script).

    Dagster's in-process runs map SIGTERM to SIGINT's handler and back (`setup_interrupt_handlers`)
    so with SIGINT ignored, SIGTERM ended up ignored in the test process and in every child it
    started afterwards: `terminate()` no longer stopped a webhook or server started by a later test
    (seen in a `make test` started in the background: two admission tests timed out).
    finops_assets_tests/test_test_process.py makes this fail without it.
    """
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


HOME_VARIABLES = ("DAGSTER_HOME", "FINOPS_HOME")


@contextmanager
def _homes_restored() -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in HOME_VARIABLES}
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture(autouse=True, scope="module")
def _module_homes_restored() -> Iterator[None]:
    """DAGSTER_HOME and FINOPS_HOME as they were before the module's fixtures ran.

    `prepare_instance` (the CLI's `finops demo`/`finops load` path) sets DAGSTER_HOME in the
    process for the commands it runs; called in a test process, it leaked into later tests and
    their child processes, whose settings then used another test's Dagster home (seen under
    pytest-xdist: the bench's product run read allocation_rules from a foreign instance).
    """
    with _homes_restored():
        yield


@pytest.fixture(autouse=True)
def _test_homes_restored() -> Iterator[None]:
    """The same, around each test."""
    with _homes_restored():
        yield


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
# clean-clone `.ci/run` under xdist, 2026-12-07 20:41, README "make test"). Only a scheduling hint: a renamed file falls back to
# the slow-first order below, and a stale figure changes when a file starts, not what it tests.
LONGEST_FILES_FIRST = (
    "ui/test_operating_model.py",
    "topology/test_production_topology.py",
    "test_load_public_focus.py",
    "test_load_azure_ea.py",
    "test_load_public_koku.py",
    "test_day_memo.py",
    "ui/test_rule_change.py",
    "ui/test_finance_flow.py",
    "scale/test_rate_limits.py",
    "scale/test_object_store_lake.py",
    "test_instance_health.py",
    "scale/test_parallel_execution.py",
    "scale/test_k8s_deploy.py",
    "ui/test_stale_days.py",
    "allocate/test_effective_dates.py",
    "chaos/test_chaos_fast.py",
    "test_period_restatement.py",
    "normalize/test_focus_conformance.py",
    "admission/test_webhook.py",
    "scale/test_postgres_instance.py",
    "test_memo_downstream.py",
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
