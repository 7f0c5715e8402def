"""normalized_costs fails a day whose normalization quarantines too much money.

Real sample estate, real Delta lake, real Dagster instance (materialize_window); nothing mocked.
"""

import datetime as dt
from decimal import Decimal

import dagster as dg
import polars as pl
import pytest

from finops_assets.conformance.check import NORMALIZE_SELECTION
from finops_assets.demo import materialize_window
from finops_assets.domain.money import MONEY
from finops_assets.sample.generate import day_files, generate_estate
from finops_assets.settings import Settings
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake

pytestmark = pytest.mark.slow

DAY = dt.date(2026, 10, 1)
CHECK = dg.AssetCheckKey(dg.AssetKey("normalized_costs"), "check_quarantined_money")


def _null_class_export(template: pl.DataFrame) -> pl.DataFrame:
    """Three rows of a real FOCUS export whose ChargeClass is the text '(null)': 1,500 USD."""
    row = template.head(1).with_columns(BillingCurrency=pl.lit("USD"), ChargeClass=pl.lit("(null)"))
    amounts = ["1000", "400", "100"]
    return pl.concat(
        row.with_columns(BilledCost=pl.lit(a), EffectiveCost=pl.lit(a), ListCost=pl.lit(a))
        for a in amounts
    )


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    home = tmp_path_factory.mktemp("normalize-limits")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FINOPS_HOME", str(home))
        settings = Settings.from_env()
        generate_estate(settings.landing_dir, DAY, 1, rows_per_day=40)
        [focus] = day_files(settings.landing_dir, "focus_export", DAY)
        template = pl.read_csv(focus, infer_schema=False)
        folder = focus.parent  # one more file of the day's FOCUS delivery
        _null_class_export(template).write_csv(folder / "zz-null-class.csv")
        (home / "dagster").mkdir()
        with dg.instance_for_test(temp_dir=str(home / "dagster")) as instance:
            result = materialize_window(instance, DAY, DAY, NORMALIZE_SELECTION)
            record = instance.event_log_storage.get_latest_asset_check_execution_by_key([CHECK])
            done = instance.get_materialized_partitions(dg.AssetKey("normalized_costs"))
            yield DeltaLake(settings.lake_uri), result, record[CHECK], done


def test_a_fully_quarantined_file_fails_the_normalize_day(outcome):
    lake, result, record, materialized = outcome
    assert DAY.isoformat() not in materialized
    assert record.status.value == "FAILED"
    evaluation = record.event.dagster_event.event_specific_data
    failures = evaluation.metadata["failures"].value
    billed = next(
        f for f in failures if f["currency"] == "USD" and f["money_column"] == "BilledCost"
    )
    assert billed["day"] == DAY.isoformat()
    assert billed["quarantined"] == "1500"
    assert billed["files"][0].endswith("zz-null-class.csv (3 rows, 1500)")
    assert billed["top_reasons"] == ["ChargeClass '(null)' is not a FOCUS value (3 rows, 1500)"]
    assert not result.success


def test_nothing_of_the_failed_day_is_written(outcome):
    lake, _, _, _ = outcome
    try:
        rows = lake.read_day(tables.NORMALIZED_COSTS, DAY).height
    except Exception:  # noqa: BLE001 - no table at all: nothing was written
        rows = 0
    assert rows == 0


def test_a_row_lost_inside_normalization_fails_check_money_conserved(tmp_path, monkeypatch):
    """Fault injected (the one stand-in here): normalization silently drops its last row."""
    from finops_assets.domain import normalize as normalize_domain

    real = normalize_domain.normalize_costs

    def losing(*args, **kwargs):
        result = real(*args, **kwargs)
        return normalize_domain.NormalizeResult(
            result.rows.head(result.rows.height - 1), result.quarantine, result.unmapped_services
        )

    monkeypatch.setattr(normalize_domain, "normalize_costs", losing)
    monkeypatch.setenv("FINOPS_HOME", str(tmp_path))
    settings = Settings.from_env()
    generate_estate(settings.landing_dir, DAY, 1, rows_per_day=20)
    (tmp_path / "dagster").mkdir()
    key = dg.AssetCheckKey(dg.AssetKey("normalized_costs"), "check_money_conserved")
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        materialize_window(instance, DAY, DAY, NORMALIZE_SELECTION)
        record = instance.event_log_storage.get_latest_asset_check_execution_by_key([key])[key]
    assert record.status.value == "FAILED"
    failures = record.event.dagster_event.event_specific_data.metadata["failures"].value
    assert {f["money_column"] for f in failures} >= {"BilledCost", "EffectiveCost"}
    assert all(f["day"] == DAY.isoformat() for f in failures)


def test_a_base_twin_changed_inside_normalization_fails_check_money_conserved(
    tmp_path, monkeypatch
):
    """Fault injected (the one stand-in here): one base-currency amount is off by a cent."""
    from finops_assets.domain import normalize as normalize_domain

    real = normalize_domain.normalize_costs
    drifted = []  # normalized_costs normalizes per source (and chunk): one row drifts, once

    def drifting(*args, **kwargs):
        result = real(*args, **kwargs)
        if drifted or result.rows.is_empty():
            return result
        drifted.append(True)
        cent = pl.lit(Decimal("0.01")).cast(MONEY)
        first = pl.int_range(pl.len()) == 0
        rows = result.rows.with_columns(
            pl.when(first)
            .then(pl.col("x_billed_cost_base") + cent)
            .otherwise(pl.col("x_billed_cost_base"))
            .cast(MONEY)
        )
        return normalize_domain.NormalizeResult(rows, result.quarantine, result.unmapped_services)

    monkeypatch.setattr(normalize_domain, "normalize_costs", drifting)
    monkeypatch.setenv("FINOPS_HOME", str(tmp_path))
    generate_estate(Settings.from_env().landing_dir, DAY, 1, rows_per_day=20)
    (tmp_path / "dagster").mkdir()
    key = dg.AssetCheckKey(dg.AssetKey("normalized_costs"), "check_money_conserved")
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        materialize_window(instance, DAY, DAY, NORMALIZE_SELECTION)
        record = instance.event_log_storage.get_latest_asset_check_execution_by_key([key])[key]
    assert record.status.value == "FAILED"
    failures = record.event.dagster_event.event_specific_data.metadata["failures"].value
    assert [f["money_column"] for f in failures] == ["x_billed_cost_base"]
    assert failures[0]["difference"] == "0.0100000000"
