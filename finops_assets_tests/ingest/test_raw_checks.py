"""The raw stage's blocking checks fail through a real Dagster materialization.

Real landing folder, real Delta lake and a real (temporary) Dagster instance; nothing mocked.
Each test shows what the instance records for the check and that the day was not written.
"""

import datetime as dt
import json
from pathlib import Path

import dagster as dg
import pytest

from finops_assets.domain.sources import focus_export
from finops_assets.ingest.assets import build_raw_asset
from finops_assets.resources.lake import LakeResource, LandingResource
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake

pytestmark = pytest.mark.slow

DAY = dt.date(2026, 10, 5)
RAW = tables.raw_contract(focus_export)
HEADER = (
    "ChargePeriodStart,ChargePeriodEnd,BillingPeriodStart,BillingPeriodEnd,BilledCost,"
    "EffectiveCost,ListCost,ContractedCost,BillingCurrency,ProviderName,ChargeCategory,Tags"
)


def _row(day: dt.date, billed: str, effective: str, tags: str = "{}") -> str:
    return (
        f"{day}T00:00:00Z,{day}T01:00:00Z,2026-10-01,2026-11-01,{billed},{effective},"
        f'{effective},{effective},USD,AWS,Usage,"{tags}"'
    )


def _land(landing: Path, name: str, *rows: str) -> None:
    folder = landing / "focus_export" / DAY.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("\n".join([HEADER, *rows]) + "\n")


def _materialize(tmp_path: Path, instance: dg.DagsterInstance):
    return dg.materialize(
        [build_raw_asset(focus_export)],
        partition_key=DAY.isoformat(),
        instance=instance,
        resources={
            "lake": LakeResource(lake_uri=str(tmp_path / "lake")),
            "landing": LandingResource(landing_dir=str(tmp_path / "landing")),
        },
        raise_on_error=False,
    )


def _recorded_check(instance: dg.DagsterInstance, name: str):
    """What the instance stored for the latest evaluation of check `name` on the raw table."""
    key = dg.AssetCheckKey(dg.AssetKey(RAW.name), name)
    record = instance.event_log_storage.get_latest_asset_check_execution_by_key([key])[key]
    evaluation = record.event.dagster_event.event_specific_data
    return record.status.value, evaluation


def _day_rows(tmp_path: Path) -> int:
    lake = DeltaLake(str(tmp_path / "lake"))
    try:
        return lake.read_day(RAW, DAY).height
    except Exception:  # noqa: BLE001 - no table at all: nothing was written
        return 0


@pytest.fixture
def instance():
    with dg.instance_for_test() as temporary:
        yield temporary


def test_a_row_of_another_day_fails_check_raw_contract(tmp_path, instance):
    _land(
        tmp_path / "landing", "mixed.csv", _row(DAY, "10", "10"), _row(DAY.replace(day=4), "5", "5")
    )

    _materialize(tmp_path, instance)

    status, evaluation = _recorded_check(instance, "check_raw_contract")
    assert status == "FAILED"
    assert not evaluation.passed
    failures = json.dumps(evaluation.metadata["failures"].value)
    assert "mixed.csv" in failures and "x_charge_date" in failures and "2026-10-04" in failures
    assert _day_rows(tmp_path) == 0
    assert DAY.isoformat() not in instance.get_materialized_partitions(dg.AssetKey(RAW.name))


def test_a_fully_quarantined_file_with_zero_billed_fails_on_effective_cost(tmp_path, instance):
    rows = [_row(DAY, "0", "615", tags="not json") for _ in range(2)]
    _land(tmp_path / "landing", "zero_billed.csv", *rows)

    _materialize(tmp_path, instance)

    status, evaluation = _recorded_check(instance, "check_quarantined_money")
    assert status == "FAILED"
    failures = evaluation.metadata["failures"].value
    effective = [f for f in failures if f["money_column"] == "EffectiveCost"]
    assert effective and effective[0]["quarantined"] == "1230"
    assert effective[0]["day"] == DAY.isoformat()
    assert effective[0]["files"][0].endswith("zero_billed.csv (2 rows, 1230)")
    assert effective[0]["top_reasons"] == ["Tags is not a JSON object (2 rows, 1230)"]
    assert _day_rows(tmp_path) == 0
    assert DAY.isoformat() not in instance.get_materialized_partitions(dg.AssetKey(RAW.name))


def test_a_day_within_its_limits_passes_both_checks(tmp_path, instance):
    _land(tmp_path / "landing", "good.csv", _row(DAY, "10", "12"), _row(DAY, "5", "5"))

    assert _materialize(tmp_path, instance).success

    for name in ("check_raw_contract", "check_quarantined_money"):
        assert _recorded_check(instance, name)[0] == "SUCCEEDED"
    assert _day_rows(tmp_path) == 2
    assert DAY.isoformat() in instance.get_materialized_partitions(dg.AssetKey(RAW.name))
