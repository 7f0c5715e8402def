"""Content-addressed data versions through the real graph: identical input, identical versions.

A day of the sample estate goes through every asset; then the same export files are delivered
again (same bytes, new modification times) and ingestion and normalization run again. Every
re-run day keeps its data version, and nothing downstream (allocated_costs and the reports)
turns STALE. A changed file changes its day's versions and makes the downstream day STALE.
"""

import datetime as dt
import os

import dagster as dg
import pytest

from finops_assets.conformance.check import NORMALIZE_SELECTION
from finops_assets.dagster_private import DATA_VERSION_TAG, StaleStatus, stale_status_resolver
from finops_assets.demo import materialize_window
from finops_assets.sample.generate import day_files, generate_estate
from finops_assets.settings import Settings

pytestmark = pytest.mark.slow

DAY = dt.date(2026, 10, 2)
RERUN = [k for k in NORMALIZE_SELECTION.split(",") if k != "service_catalog"]  # day assets
DOWNSTREAM = ["allocated_costs", "cost_by_business_unit", "budget_status", "allocation_audit"]


def _versions(instance: dg.DagsterInstance, keys: list[str]) -> dict[str, str | None]:
    """The data version of each asset's latest materialization of DAY."""
    versions = {}
    for key in keys:
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey(key), asset_partitions=[DAY.isoformat()]),
            limit=1,
        ).records
        event = records[0].asset_materialization if records else None
        versions[key] = (event.tags or {}).get(DATA_VERSION_TAG) if event else None
    return versions


def _stale(instance: dg.DagsterInstance) -> dict[str, StaleStatus]:
    from finops_assets.definitions import defs

    resolver = stale_status_resolver(instance, defs.resolve_asset_graph())
    return {key: resolver.get_status(dg.AssetKey(key), DAY.isoformat()) for key in DOWNSTREAM}


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("FINOPS_HOME", str(tmp_path))
    settings = Settings.from_env()
    generate_estate(settings.landing_dir, DAY, 1, rows_per_day=60)
    (tmp_path / "dagster").mkdir()
    return tmp_path, settings


def test_redelivered_identical_files_keep_every_version_and_make_nothing_stale(home):
    tmp_path, settings = home
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        assert materialize_window(instance, DAY, DAY).success
        first = _versions(instance, RERUN + DOWNSTREAM)
        assert all(first.values()), first
        for path in settings.landing_dir.rglob("*"):
            if path.is_file():
                path.write_bytes(path.read_bytes())  # the same bytes, delivered again
                os.utime(path, (path.stat().st_atime + 60, path.stat().st_mtime + 60))

        assert materialize_window(instance, DAY, DAY, NORMALIZE_SELECTION).success

        assert _versions(instance, RERUN) == {k: first[k] for k in RERUN}
        assert set(_stale(instance).values()) == {StaleStatus.FRESH}

        # A restated export (one more row in the FOCUS file) is a new version, downstream stale.
        [focus] = day_files(settings.landing_dir, "focus_export", DAY)
        lines = focus.read_text(encoding="utf-8").splitlines(keepends=True)
        focus.write_text("".join([*lines, lines[-1]]), encoding="utf-8")
        assert materialize_window(instance, DAY, DAY, NORMALIZE_SELECTION).success
        after = _versions(instance, RERUN)
        stale = _stale(instance)
    assert after["focus_export_raw"] != first["focus_export_raw"]
    assert after["normalized_costs"] != first["normalized_costs"]
    assert after["aws_cur_raw"] == first["aws_cur_raw"]  # untouched source, same version
    assert stale["allocated_costs"] == StaleStatus.STALE
