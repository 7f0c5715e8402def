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
