"""Every contract check the day-writer runs can fail: the day is not written, its partition FAILED.

On the small estate (the whole graph materialized for two days), each asset in turn is run for
one day with its pandera validation forced to fail (the module's `validate_frame`, or the
allocation contract, replaced by one that reports a failure). The run fails, Dagster records
the partition FAILED, and the day's rows in the asset's table are exactly what they were.
"""

import dagster as dg
import pytest
from polars.testing import assert_frame_equal

from finops_assets.allocate import day as allocate_day_module
from finops_assets.storage import tables
from finops_assets.storage.validation import ValidationOutcome
from finops_assets_tests.allocate.conftest import DAYS, run_assets
from finops_assets_tests.allocate.rules_change import definitions_with_rules, write_shipped_rules

pytestmark = pytest.mark.slow

FORCED = ValidationOutcome(False, 1, [{"column": "*", "check": "forced", "failure_case": "x"}])

# asset -> (module whose validation is forced, attribute, table whose day must stay as it was)
CASES = {
    "k8s_usage_raw": ("finops_assets.ingest.k8s_assets", "validate_frame", tables.K8S_USAGE_RAW),
    "allocation_drivers_raw": (
        "finops_assets.ingest.driver_assets",
        "validate_frame",
        tables.ALLOCATION_DRIVERS_RAW,
    ),
    "fx_rates": ("finops_assets.normalize.assets", "validate_frame", tables.FX_RATES),
    "allocated_costs": (allocate_day_module.__name__, "allocated_contract_result", None),
    "cost_by_business_unit": (
        "finops_assets.store.assets",
        "validate_frame",
        tables.COST_BY_BUSINESS_UNIT,
    ),
    "budget_status": ("finops_assets.actuate.assets", "validate_frame", tables.BUDGET_STATUS),
    "budget_events": ("finops_assets.actuate.assets", "validate_frame", tables.BUDGET_EVENTS),
    "finops_kpis": ("finops_assets.actuate.kpi_assets", "validate_frame", tables.FINOPS_KPIS),
    "cost_anomalies": ("finops_assets.actuate.anomalies", "validate_frame", tables.COST_ANOMALIES),
    "rightsizing_recommendations": (
        "finops_assets.actuate.recommendations",
        "validate_frame",
        tables.RIGHTSIZING_RECOMMENDATIONS,
    ),
    "commitment_recommendations": (
        "finops_assets.actuate.recommendations",
        "validate_frame",
        tables.COMMITMENT_RECOMMENDATIONS,
    ),
}


@pytest.fixture(scope="module")
def defs(estate, tmp_path_factory) -> dg.Definitions:
    return definitions_with_rules(write_shipped_rules(tmp_path_factory.mktemp("r") / "rules.yaml"))


@pytest.mark.parametrize("asset", list(CASES))
def test_a_forced_contract_failure_fails_the_partition_and_writes_nothing(
    estate, defs, monkeypatch, asset
):
    module, attribute, table = CASES[asset]
    table = table or tables.ALLOCATED_COSTS
    day = DAYS[0]
    before = estate.lake.read_day(table, day)
    monkeypatch.setattr(f"{module}.{attribute}", lambda *args, **kwargs: FORCED)

    result = run_assets(defs, estate.instance, [asset], [day])

    assert not result.success
    key = dg.AssetKey(asset)
    status = estate.instance.get_status_by_partition(
        key, [day.isoformat()], defs.resolve_assets_def(key).partitions_def
    )
    assert status is not None and status[day.isoformat()].value == "FAILED"
    assert not result.asset_materializations_for_node(asset)
    failed = [c for c in result.get_asset_check_evaluations() if not c.passed]
    assert failed and all(c.partition == day.isoformat() for c in failed)
    assert_frame_equal(estate.lake.read_day(table, day), before)
