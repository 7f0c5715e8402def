"""A billing currency without a rate inside the lookback fails normalized_costs, naming it."""

import datetime as dt

import dagster as dg
import pytest

from finops_assets.conformance.check import NORMALIZE_SELECTION
from finops_assets.resources.reference import FxRatesResource
from finops_assets.sample.generate import generate_estate
from finops_assets.settings import Settings
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake

pytestmark = pytest.mark.slow

DAY = dt.date(2026, 10, 2)
# ECB format; JPY (the sample's Azure billing currency) was last published 12 days earlier.
RATES = "Date,USD,JPY,\n2026-10-02,1.1700,N/A,\n2026-10-01,1.1650,N/A,\n2026-09-20,1.1600,170.10,\n"


def test_missing_jpy_rate_blocks_the_day_and_names_currency_and_day(tmp_path):
    rates = tmp_path / "rates.csv"
    rates.write_text(RATES)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FINOPS_HOME", str(tmp_path / "home"))
        settings = Settings.from_env()
        generate_estate(settings.landing_dir, DAY, 1, rows_per_day=60)
        from finops_assets.definitions import defs

        job = defs.resolve_implicit_global_asset_job_def()
        selection = {dg.AssetKey(k) for k in NORMALIZE_SELECTION.split(",")}
        with dg.instance_for_test() as instance:
            result = job.get_subset(asset_selection=selection).execute_in_process(
                instance=instance,
                partition_key=DAY.isoformat(),
                resources={"rates": FxRatesResource(csv_path=str(rates), lookback_days=7)},
                raise_on_error=False,
            )
    evaluations = {
        e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data
        for e in result.all_events
        if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
    }
    check = evaluations["check_fx_rates_available"]
    assert not check.passed
    failures = check.metadata["failures"].value
    assert [f["currency"] for f in failures] == ["JPY"]
    assert failures[0]["day"] == DAY.isoformat()
    assert DeltaLake(settings.lake_uri).read_day(tables.NORMALIZED_COSTS, DAY).is_empty()
