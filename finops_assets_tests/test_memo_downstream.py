"""A restated day is computed again below allocation only where it is read, on a real instance.

A FOCUS delivery of three October days goes through the graph down to the publish and actuate
assets; the provider restates it with only the middle day changed and the same days run again
(what the landing sensor launches). The assets whose day reads that day alone (the FOCUS
datasets, the allocation audit) compute exactly that day; the assets that read earlier days
(month-to-date budgets, anomaly history, lookback windows) compute it and every later day whose
window holds it, and reuse the day before it. A forced full recompute
(`finops/recompute=true`) then gives the same data versions and the same rows on every day.
"""

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from finops_assets.conformance.check import NORMALIZE_SELECTION
from finops_assets.dagster_private import DATA_VERSION_TAG
from finops_assets.day_memo import RECOMPUTE_TAG, RECOMPUTED_KEY
from finops_assets.demo import materialize_window, window_job
from finops_assets.sample import focus_export_writer
from finops_assets.settings import Settings
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake
from finops_assets_tests.materializations import latest_materialization

FIRST, LAST = dt.date(2026, 10, 13), dt.date(2026, 10, 15)
DAYS = [FIRST + dt.timedelta(days=n) for n in range((LAST - FIRST).days + 1)]
RESTATED = dt.date(2026, 10, 14)
DELIVERY = "focus_export/20261001-20261031/focus-oci"
SAME_DAY = ["focus_export", "focus_cost_allocation", "allocation_audit"]
WINDOWED = [
    "budget_status",
    "cost_anomalies",
    "rightsizing_recommendations",
    "commitment_recommendations",
]
GRAPH = ",".join(
    [
        NORMALIZE_SELECTION,
        "allocation_rules",
        "applicable_rules",
        "k8s_usage_raw",
        "allocation_drivers_raw",
        "allocated_costs",
        *SAME_DAY,
        *WINDOWED,
    ]
)
TABLES = [
    tables.ALLOCATION_AUDIT,
    tables.BUDGET_STATUS,
    tables.COST_ANOMALIES,
    tables.RIGHTSIZING_RECOMMENDATIONS,
    tables.COMMITMENT_RECOMMENDATIONS,
]


def _period_file(scratch: Path, seed_of: Callable[[dt.date], int]) -> bytes:
    """One CSV of the DAYS' rows (header once), each day written with seed_of(day)."""
    parts: list[bytes] = []
    header = b""
    for day in DAYS:
        [path] = focus_export_writer.write_day(scratch, day, seed=seed_of(day), rows_per_day=4)
        header, body = path.read_bytes().split(b"\n", 1)
        parts.append(body)
    return header + b"\n" + b"".join(parts)


def _recomputed(instance: dg.DagsterInstance, key: str) -> list[str]:
    """The days whose latest materialization of `key` was computed (not recorded again)."""
    flags = {d: latest_materialization(instance, key, d).metadata.get(RECOMPUTED_KEY) for d in DAYS}
    # a forced recompute records no inputs (nor the flag): the day was computed
    return [d.isoformat() for d, flag in flags.items() if flag is None or flag.value]


def _versions(instance: dg.DagsterInstance, keys: list[str]) -> dict[str, list[str | None]]:
    return {
        key: [
            (latest_materialization(instance, key, d).tags or {}).get(DATA_VERSION_TAG)
            for d in DAYS
        ]
        for key in keys
    }


def _rows(lake: DeltaLake, home: Path) -> dict[str, list[tuple]]:
    """Every day's rows of the tables and FOCUS datasets, sorted (run ids left out)."""
    found = {}
    for contract in TABLES:
        frame = lake.read_days(contract, DAYS)
        frame = frame.drop([c for c in frame.columns if "run_id" in c])
        found[contract.name] = sorted(frame.iter_rows(), key=repr)
    for folder in ("focus/1.2", "focus/1.3", "focus/cost_allocation"):
        frame = pl.read_parquet(sorted((home / folder).glob("*/*.parquet")))
        found[folder] = sorted(frame.iter_rows(), key=repr)
    return found


@pytest.mark.slow
def test_a_restated_day_is_computed_again_only_where_it_is_read(tmp_path, monkeypatch):
    monkeypatch.setenv("FINOPS_HOME", str(tmp_path))
    settings = Settings.from_env()
    (tmp_path / "dagster").mkdir()
    delivery = settings.landing_dir / DELIVERY / "focus-oci-2026-10.csv"
    delivery.parent.mkdir(parents=True)
    delivery.write_bytes(_period_file(tmp_path / "scratch-1", lambda day: 7))
    restated = _period_file(tmp_path / "scratch-2", lambda day: 8 if day == RESTATED else 7)
    lake = DeltaLake(settings.lake_uri)
    keys = [*SAME_DAY, *WINDOWED]
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        assert materialize_window(instance, FIRST, LAST, GRAPH).success
        first = {key: _recomputed(instance, key) for key in keys}
        flagged = {
            k: latest_materialization(instance, k, d).metadata.get(RECOMPUTED_KEY)
            for k in keys
            for d in DAYS
        }
        before = _versions(instance, keys)

        delivery.write_bytes(restated)  # the provider's new delivery; the days run again
        assert materialize_window(instance, FIRST, LAST, GRAPH).success
        restatement = {key: _recomputed(instance, key) for key in keys}
        memoized, rows = _versions(instance, keys), _rows(lake, tmp_path)

        job = window_job(",".join(keys))  # every day computed again from the same inputs
        tags = {
            "dagster/asset_partition_range_start": FIRST.isoformat(),
            "dagster/asset_partition_range_end": LAST.isoformat(),
            RECOMPUTE_TAG: "true",
        }
        assert job.execute_in_process(instance=instance, tags=tags).success
        full = {key: _recomputed(instance, key) for key in keys}
        recomputed, rows_recomputed = _versions(instance, keys), _rows(lake, tmp_path)

    every_day = [d.isoformat() for d in DAYS]
    assert all(flag is not None for flag in flagged.values()), flagged  # all memoized
    assert first == dict.fromkeys(keys, every_day)
    assert restatement == {
        **dict.fromkeys(SAME_DAY, [RESTATED.isoformat()]),
        # the restated day and the later day whose window holds it; the day before is reused
        **dict.fromkeys(WINDOWED, [RESTATED.isoformat(), LAST.isoformat()]),
    }
    assert full == dict.fromkeys(keys, every_day)
    assert memoized == recomputed
    assert rows == rows_recomputed
    # rows to compare (4 rows a day find no anomaly and no rightsizing: those stay empty)
    filled = ["allocation_audit", "budget_status", "focus/1.3", "focus/cost_allocation"]
    assert all(rows[name] for name in filled), {name: len(rows[name]) for name in rows}
    # the restatement changed the restated day's FOCUS rows, nothing before it
    for key in ("focus_export", "focus_cost_allocation"):
        assert before[key][0] == memoized[key][0] and before[key][1] != memoized[key][1], key
