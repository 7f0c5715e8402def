"""normalized_costs on a real instance: bad rows quarantined with reasons, gross/net metadata."""

import datetime as dt

import dagster as dg
import polars as pl
import pytest

from finops_assets.conformance.check import NORMALIZE_SELECTION
from finops_assets.demo import materialize_window
from finops_assets.sample.generate import day_files, generate_estate
from finops_assets.settings import Settings
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake

pytestmark = pytest.mark.slow

DAY = dt.date(2026, 10, 1)


def _bad_export(template: pl.DataFrame) -> pl.DataFrame:
    """Four rows of a real FOCUS export: one good, three that normalization must reject."""
    row = template.head(1)
    start = row["ChargePeriodStart"][0]
    return pl.concat(
        [
            row.with_columns(BilledCost=pl.lit("1.50")),
            row.with_columns(BillingCurrency=pl.lit("ZZZ"), BilledCost=pl.lit("2.00")),
            row.with_columns(
                ConsumedQuantity=pl.lit("-3"), PricingQuantity=pl.lit("-3"), BilledCost=pl.lit("3")
            ),
            row.with_columns(
                ChargePeriodEnd=pl.lit("2026-09-30T00:00:00Z"), BilledCost=pl.lit("4")
            ),
        ]
    ).with_columns(ChargePeriodStart=pl.lit(start))


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    """One day of the estate plus a FOCUS file with bad rows, materialized through normalize."""
    home = tmp_path_factory.mktemp("normalize-asset")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FINOPS_HOME", str(home))
        # This module is about reasons, not limits: the ZZZ row is 100 % of its currency.
        patch.setenv("FINOPS_QUARANTINE_MAX_SHARE", "1")
        settings = Settings.from_env()
        generate_estate(settings.landing_dir, DAY, 1, rows_per_day=60)
        [focus] = day_files(settings.landing_dir, "focus_export", DAY)
        template = pl.read_csv(focus, infer_schema=False)
        folder = focus.parent  # one more file of the day's FOCUS delivery
        _bad_export(template).write_csv(folder / "zz-bad-rows.csv")
        (home / "dagster").mkdir()
        with dg.instance_for_test(temp_dir=str(home / "dagster")) as instance:
            result = materialize_window(instance, DAY, DAY, NORMALIZE_SELECTION)
            yield DeltaLake(settings.lake_uri), result


def test_bad_rows_are_quarantined_with_their_reason_and_good_rows_kept(outcome):
    lake, result = outcome
    assert result.success
    quarantine = lake.read_day(tables.QUARANTINE, DAY).filter(
        pl.col("x_source") == "normalized_costs"
    )
    bad = quarantine.filter(pl.col("x_source_file").str.contains("zz-bad-rows"))
    assert sorted(bad["x_reason"].to_list()) == [
        "ChargePeriodEnd before ChargePeriodStart",
        "negative quantity with positive cost",
        "unknown currency code 'ZZZ' in BillingCurrency",
    ]
    assert sorted(bad["x_amount"].to_list()) == ["2.0000000000", "3.0000000000", "4.0000000000"]
    rows = lake.read_day(tables.NORMALIZED_COSTS, DAY)
    kept = rows.filter(pl.col("x_source_row_key").str.contains("zz-bad-rows"))
    assert kept.height == 1 and str(kept["BilledCost"][0]) == "1.5000000000"


def _check(result, name: str):
    evaluations = [
        e.asset_check_evaluation_data
        for e in result.all_events
        if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ]
    return next(e for e in evaluations if e.check_name == name)


def test_conservation_counts_the_quarantined_money_on_every_money_column(outcome):
    _, result = outcome
    assert _check(result, "check_billed_cost_conserved").passed
    gross_net = _check(result, "check_money_conserved")
    assert gross_net.passed
    table = gross_net.metadata["gross_net"].value
    assert "usage_gross" in table and "credits" in table and "tax" in table
    materialization = result.asset_materializations_for_node("normalized_costs")[0]
    assert "gross_net" in materialization.metadata
