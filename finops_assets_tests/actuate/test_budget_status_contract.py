"""check_budget_status_contract can fail: the day is not written and its partition is FAILED."""

import datetime as dt

import dagster as dg
import pandera.polars as pa
import pytest

from finops_assets.actuate import assets as actuate_assets
from finops_assets.actuate.checks import BUDGET_STATUS_SCHEMA
from finops_assets.resources.events import EventSinksResource
from finops_assets.resources.lake import LakeResource
from finops_assets.storage import tables
from finops_assets_tests.actuate.test_budget_events_delivery import DAY1, run, write_allocated

pytestmark = pytest.mark.slow

DAY2 = DAY1 + dt.timedelta(days=1)


@pytest.fixture
def instance(tmp_path):
    """A real (SQLite, temp folder) Dagster instance."""
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        yield instance


def test_a_day_failing_the_pandera_contract_fails_its_partition(tmp_path, monkeypatch, instance):
    lake = LakeResource(lake_uri=str(tmp_path / "lake"), base_currency="USD")
    write_allocated(lake, DAY1, "600")
    write_allocated(lake, DAY2, "-5000")  # month-to-date negative: the forced check fails
    forced = BUDGET_STATUS_SCHEMA.update_column(
        "actual_mtd", checks=[pa.Check.ge(0, error="forced: actual_mtd must be >= 0")]
    )
    monkeypatch.setattr(actuate_assets, "BUDGET_STATUS_SCHEMA", forced)
    sinks = EventSinksResource(events_dir=str(tmp_path / "events"))

    result = run(instance, tmp_path, sinks, DAY1, DAY2)

    assert not result.success
    statuses = instance.get_status_by_partition(
        dg.AssetKey("budget_status"),
        [DAY1.isoformat(), DAY2.isoformat()],
        actuate_assets.daily_partitions,
    )
    assert {k: v.value for k, v in statuses.items()} == {
        DAY1.isoformat(): "MATERIALIZED",
        DAY2.isoformat(): "FAILED",
    }
    assert not instance.get_materialized_partitions(dg.AssetKey("budget_events"))
    written = lake.delta().read_days(tables.BUDGET_STATUS, [DAY1, DAY2])
    assert set(written["x_charge_date"].to_list()) == {DAY1}  # nothing written for DAY2
    check = [
        e.dagster_event.event_specific_data
        for e in instance.all_logs(result.run_id)
        if e.dagster_event
        and e.dagster_event.event_type_value == "ASSET_CHECK_EVALUATION"
        and e.dagster_event.event_specific_data.partition == DAY2.isoformat()
    ]
    assert [c.passed for c in check] == [False]
    assert "forced" in str(check[0].metadata["failures"].value)
