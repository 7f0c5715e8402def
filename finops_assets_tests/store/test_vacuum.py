"""The maintenance schedule vacuums files no Delta commit references, and nothing else.

Real Delta tables in a temp folder, written through the product's DeltaLake layer. The orphan is
made the way a write killed before its commit leaves one: a Parquet file in the table's folder
that no log entry names (a copy of a committed file's bytes under a delta-rs style name), dated
back with os.utime so that it is older than the retention.
"""

import datetime as dt
import os
import shutil
import time
from decimal import Decimal
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from finops_assets.domain.allocate import ALLOCATED_COLUMNS
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake
from finops_assets.storage.vacuum import lake_tables, vacuum_lake
from finops_assets.store.maintenance import lake_maintenance_schedule, vacuum_job

DAY1, DAY2 = dt.date(2026, 10, 1), dt.date(2026, 10, 2)
HOUR = 3600.0


def allocated(day: dt.date, costs: list[str]) -> pl.DataFrame:
    rows = []
    for index, cost in enumerate(costs):
        values = {
            "x_charge_date": day,
            "x_provider": "aws",
            "x_business_unit": f"bu-{index}",
            "x_base_currency": "USD",
            "x_effective_cost_base": Decimal(cost),
            "x_allocation_method": "tag",
        }
        rows.append({name: values.get(name) for name in ALLOCATED_COLUMNS})
    return pl.DataFrame(rows, schema=ALLOCATED_COLUMNS)


def total(lake: DeltaLake) -> Decimal:
    frame = lake.read_all(tables.ALLOCATED_COSTS)
    return Decimal(str(frame["x_effective_cost_base"].sum()))


def orphan_beside(table_dir: Path, age_hours: float, name: str) -> Path:
    """A Parquet file no commit names, `age_hours` old, next to a committed one."""
    committed = next(table_dir.rglob("*.parquet"))
    orphan = committed.with_name(f"part-00001-{name}-c000.zstd.parquet")
    shutil.copyfile(committed, orphan)
    stamp = time.time() - age_hours * HOUR
    os.utime(orphan, (stamp, stamp))
    return orphan


@pytest.fixture
def lake(tmp_path: Path) -> DeltaLake:
    delta = DeltaLake(str(tmp_path / "lake"))
    delta.write_day(tables.ALLOCATED_COSTS, allocated(DAY1, ["10.50", "0.25"]), DAY1)
    delta.write_day(tables.ALLOCATED_COSTS, allocated(DAY2, ["7.0000000001"]), DAY2)
    delta.write_day(tables.BUDGET_STATUS, pl.DataFrame(schema=tables.BUDGET_STATUS.columns), DAY1)
    return delta


def test_old_orphans_go_recent_ones_and_committed_data_stay(lake: DeltaLake, tmp_path: Path):
    before = total(lake)
    table_dir = tmp_path / "lake" / "allocated_costs"
    old = orphan_beside(table_dir, age_hours=24 * 8, name="killed-write")
    fresh = orphan_beside(table_dir, age_hours=1, name="write-in-flight")
    assert total(lake) == before  # orphans are invisible to readers, but take space

    reports = vacuum_lake(lake, retention_hours=168)

    assert not old.exists()
    assert fresh.exists()  # younger than the retention: may belong to a write still running
    assert total(lake) == before == Decimal("17.7500000001")
    by_table = {report.table: report for report in reports}
    assert any(path.endswith(old.name) for path in by_table["allocated_costs"].removed)
    assert by_table["budget_status"].removed == []
    assert lake.read_day(tables.ALLOCATED_COSTS, DAY1).height == 2


def test_a_retention_below_the_tables_own_is_refused(lake: DeltaLake) -> None:
    with pytest.raises(ValueError, match="retention"):
        vacuum_lake(lake, retention_hours=1)


def test_lake_tables_are_the_written_ones(lake: DeltaLake) -> None:
    assert [t.name for t in lake_tables(lake)] == ["allocated_costs", "budget_status"]


def test_the_schedule_is_stopped_by_default_and_its_job_vacuums(lake: DeltaLake, tmp_path: Path):
    assert lake_maintenance_schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    old = orphan_beside(tmp_path / "lake" / "allocated_costs", 24 * 8, "killed-write")
    from finops_assets.resources.lake import LakeResource

    result = vacuum_job.execute_in_process(
        resources={"lake": LakeResource(lake_uri=lake.root_uri)},
        run_config={"ops": {"vacuum_delta_tables": {"config": {"retention_hours": 168}}}},
    )
    assert result.success
    assert not old.exists()
    assert total(lake) == Decimal("17.7500000001")
