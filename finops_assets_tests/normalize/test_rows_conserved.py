"""normalized_costs fails a day that loses a zero-cost row: check_rows_conserved.

No amount check can see such a row (its money is 0 on every column). Real sample estate plus a
FOCUS file with one zero-cost row, real Delta lake, real Dagster instance, the day normalized in
chunks of 8 rows (per-chunk counts summed). Fault injected (the one stand-in): normalization
drops that zero-cost row.
"""

import datetime as dt

import dagster as dg
import polars as pl
import pytest

from finops_assets.conformance.check import NORMALIZE_SELECTION
from finops_assets.demo import materialize_window
from finops_assets.normalize import streaming
from finops_assets.sample.generate import day_files, generate_estate
from finops_assets.settings import Settings

pytestmark = pytest.mark.slow

DAY = dt.date(2026, 10, 1)
ASSET = dg.AssetKey("normalized_costs")
ROWS = dg.AssetCheckKey(ASSET, "check_rows_conserved")
MONEY = dg.AssetCheckKey(ASSET, "check_money_conserved")
MONEY_COLUMNS = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost")


def test_a_zero_cost_row_lost_inside_normalization_fails_the_day(tmp_path, monkeypatch):
    from finops_assets.domain import normalize as normalize_domain

    real = normalize_domain.normalize_costs
    dropped: list[str] = []

    def losing(rows, **kwargs):
        result = real(rows, **kwargs)
        zero = pl.all_horizontal(pl.col(c) == 0 for c in MONEY_COLUMNS).fill_null(False)
        free = pl.col("x_source_row_key").str.contains("zz-free.csv", literal=True)
        lost = result.rows.filter(zero & free)
        if dropped or lost.is_empty():
            return result
        key = lost["x_source_row_key"][0]
        dropped.append(key)
        kept = result.rows.filter(pl.col("x_source_row_key") != key)
        return normalize_domain.NormalizeResult(kept, result.quarantine, result.unmapped_services)

    monkeypatch.setattr(normalize_domain, "normalize_costs", losing)
    monkeypatch.setattr(streaming, "CHUNK_ROWS", 8)
    monkeypatch.setenv("FINOPS_HOME", str(tmp_path))
    settings = Settings.from_env()
    generate_estate(settings.landing_dir, DAY, 1, rows_per_day=20)
    [focus] = day_files(settings.landing_dir, "focus_export", DAY)
    template = pl.read_csv(focus, infer_schema=False).head(1)
    free = template.with_columns(
        pl.lit("0").alias(c) for c in MONEY_COLUMNS if c in template.columns
    )
    free.write_csv(focus.parent / "zz-free.csv")
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        result = materialize_window(instance, DAY, DAY, NORMALIZE_SELECTION)
        records = instance.event_log_storage.get_latest_asset_check_execution_by_key([ROWS, MONEY])
        done = instance.get_materialized_partitions(ASSET)
    assert len(dropped) == 1
    assert DAY.isoformat() not in done and not result.success
    assert records[MONEY].status.value == "SUCCEEDED"  # the amounts cannot see it
    assert records[ROWS].status.value == "FAILED"
    failures = records[ROWS].event.dagster_event.event_specific_data.metadata["failures"].value
    assert [(f["day"], f["x_source"], f["difference"]) for f in failures] == [
        (DAY.isoformat(), "focus_export", "1")
    ]
