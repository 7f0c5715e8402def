"""Restating one day of a billing-period delivery re-runs only that day downstream.

A month-to-date FOCUS export of October 2026 (1 to 7 October) arrives as one period file in
`landing/focus_export/20261001-20261007/<export>/`, goes through the whole graph on a real
Dagster instance, and is then replaced by a new delivery in which only the rows of 4 October
changed. After re-ingesting the whole period, only that day's raw and normalized data versions
change, only that day of allocated_costs and below is STALE, and re-materializing the stale day
leaves the other 6 days' versions as they were. (Seven days, not a whole month: every day but
the restated one is a day that must stay as it was, and each day costs a run its time; what a
31-day file costs is measured by `make bench`.)
"""

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pytest

from finops_assets.conformance.check import NORMALIZE_SELECTION
from finops_assets.dagster_private import DATA_VERSION_TAG, StaleStatus, stale_status_resolver
from finops_assets.demo import materialize_window
from finops_assets.sample import focus_export_writer
from finops_assets.settings import Settings

FIRST, LAST = dt.date(2026, 10, 1), dt.date(2026, 10, 7)
PERIOD = [FIRST + dt.timedelta(days=n) for n in range((LAST - FIRST).days + 1)]
RESTATED = dt.date(2026, 10, 4)
DELIVERY = "focus_export/20261001-20261007/focus-oci"
DOWNSTREAM = ["allocated_costs", "cost_by_business_unit", "budget_status"]
# The part of the graph a FOCUS delivery flows through (allocation's other inputs included).
GRAPH = ",".join(
    [
        NORMALIZE_SELECTION,
        "allocation_rules",
        "applicable_rules",
        "k8s_usage_raw",
        "allocation_drivers_raw",
        *DOWNSTREAM,
    ]
)


def _period_file(scratch: Path, seed_of: Callable[[dt.date], int]) -> bytes:
    """One CSV of every day's rows of the period (header once), each day written with seed_of(day)."""
    parts: list[bytes] = []
    for day in PERIOD:
        [path] = focus_export_writer.write_day(scratch, day, seed=seed_of(day), rows_per_day=4)
        header, body = path.read_bytes().split(b"\n", 1)
        parts.append(body)
    return header + b"\n" + b"".join(parts)


def _versions(instance: dg.DagsterInstance, key: str) -> dict[str, str | None]:
    """The data version of the latest materialization of each day of the period of `key`."""
    versions: dict[str, str | None] = {}
    for day in PERIOD:
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey(key), asset_partitions=[day.isoformat()]),
            limit=1,
        ).records
        event = records[0].asset_materialization if records else None
        versions[day.isoformat()] = (event.tags or {}).get(DATA_VERSION_TAG) if event else None
    return versions


def _stale_days(instance: dg.DagsterInstance, key: str) -> list[str]:
    from finops_assets.definitions import defs

    resolver = stale_status_resolver(instance, defs.resolve_asset_graph())
    return [
        d.isoformat()
        for d in PERIOD
        if resolver.get_status(dg.AssetKey(key), d.isoformat()) != StaleStatus.FRESH
    ]


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("FINOPS_HOME", str(tmp_path))
    settings = Settings.from_env()
    (tmp_path / "dagster").mkdir()
    return tmp_path, settings


@pytest.mark.slow
def test_restating_one_day_of_a_period_delivery_reruns_only_that_day(home):
    tmp_path, settings = home
    delivery = settings.landing_dir / DELIVERY / "focus-oci-2026-10.csv"
    delivery.parent.mkdir(parents=True)
    original = _period_file(tmp_path / "scratch-1", lambda day: 7)
    restated = _period_file(tmp_path / "scratch-2", lambda day: 8 if day == RESTATED else 7)
    assert original != restated
    delivery.write_bytes(original)
    keys = ["focus_export_raw", "normalized_costs", *DOWNSTREAM]
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        assert materialize_window(instance, FIRST, LAST, GRAPH).success
        before = {key: _versions(instance, key) for key in keys}
        for key in keys:
            assert all(before[key].values()), (key, before[key])
        assert len(set(before["normalized_costs"].values())) == len(PERIOD)

        delivery.write_bytes(restated)  # the provider's new delivery of the whole period
        assert materialize_window(instance, FIRST, LAST, NORMALIZE_SELECTION).success
        after = {key: _versions(instance, key) for key in ["focus_export_raw", "normalized_costs"]}
        stale = {key: _stale_days(instance, key) for key in DOWNSTREAM}

        # What the stale day's re-run does, stage by stage: allocation, then the reports below it.
        assert materialize_window(instance, RESTATED, RESTATED, "allocated_costs").success
        stale_below = {key: _stale_days(instance, key) for key in DOWNSTREAM}
        assert materialize_window(instance, RESTATED, RESTATED, ",".join(DOWNSTREAM[1:])).success
        rerun = {key: _versions(instance, key) for key in DOWNSTREAM}
        stale_after = {key: _stale_days(instance, key) for key in DOWNSTREAM}

    day = RESTATED.isoformat()
    for key in ["focus_export_raw", "normalized_costs"]:
        changed = [d for d in before[key] if before[key][d] != after[key][d]]
        assert changed == [day], (key, changed)
    # Dagster marks the direct children of a changed version STALE, one level at a time.
    assert stale == {"allocated_costs": [day], "cost_by_business_unit": [], "budget_status": []}
    assert stale_below == {
        "allocated_costs": [],
        "cost_by_business_unit": [day],
        "budget_status": [day],
    }
    for key in DOWNSTREAM:
        changed = [d for d in before[key] if before[key][d] != rerun[key][d]]
        assert changed == [day], (key, changed)
    assert stale_after == {key: [] for key in DOWNSTREAM}
