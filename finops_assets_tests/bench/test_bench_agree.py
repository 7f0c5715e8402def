"""The benchmark's implementations compute the same thing: (a) the product, (b) DuckDB, (c) naive."""

from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from bench import duck, naive, worker
from bench.incremental import measure
from bench.reference import DAY, load_reference, strided_sample
from finops_assets.sample.aws_cur_writer import write_parquet_export
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake


@pytest.fixture(scope="module")
def cur_day(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small CUR 2.0 Parquet day of every sample account (~6k rows)."""
    folder = tmp_path_factory.mktemp("bench")
    return write_parquet_export(folder / "cur.parquet", DAY, 7, 6_000)


@pytest.fixture(scope="module")
def reference():
    """The shipped reference data with EUR as the base currency (USD costs are converted)."""
    return load_reference("EUR")


@pytest.fixture(scope="module")
def product_day(cur_day: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    """(a): the day landed and run through the real Dagster graph (bench.product), in a child
    process as the bench runs it (the run sets FINOPS_HOME and loads the definitions)."""
    from bench.measure import run_process

    home = tmp_path_factory.mktemp("product") / "home"
    measured = run_process(["bench.product", str(cur_day), str(home)])
    return measured.payload, home


@pytest.mark.slow
def test_three_implementations_agree_to_the_unit(cur_day: Path, reference, product_day) -> None:
    """Totals per business unit (rows and four money sums) of (a), (b) and (c) are identical."""
    naive_totals = naive.normalize_and_allocate(cur_day, reference)
    assert set(naive_totals) >= {"payments", "search", "data-platform", "unallocated"}
    payload, _ = product_day
    assert payload["success"] and payload["quarantined_rows"] == 0
    assert payload["totals"] == naive_totals
    assert duck.normalize_and_allocate(cur_day, reference) == naive_totals


@pytest.mark.slow
def test_product_reports_each_asset_from_the_event_log(product_day) -> None:
    """(a) names the steps of the whole graph, ingest through actuation, with their seconds."""
    steps = product_day[0]["steps"]
    assert {"aws_cur_raw", "normalized_costs", "allocated_costs", "budget_events"} <= set(steps)
    assert all(seconds > 0 for seconds in steps.values())


@pytest.mark.slow
def test_product_day_differs_from_the_file_when_a_row_is_wrong(
    cur_day: Path, reference, product_day
) -> None:
    """The comparison can fail: one cent more on one row changes (c)'s totals, not (a)'s."""
    rows = pl.read_parquet(cur_day)
    cost = pl.col("line_item_unblended_cost")
    first = pl.int_range(pl.len()) == 0
    changed = rows.with_columns(pl.when(first).then(cost + Decimal("0.01")).otherwise(cost))
    path = cur_day.with_name("changed.parquet")
    changed.write_parquet(path)
    assert naive.normalize_and_allocate(path, reference) != product_day[0]["totals"]


def test_floor_reads_the_columns_the_pipeline_needs(cur_day: Path) -> None:
    """(d) reads every column aws_cur_raw types, and no column it does not."""
    columns = worker.needed_columns(cur_day)
    assert "line_item_unblended_cost" in columns and "resource_tags" in columns
    assert len(columns) < len(pl.scan_parquet(cur_day).collect_schema())


def test_strided_sample_keeps_every_kth_row(cur_day: Path) -> None:
    """The naive sample is every k-th row of the day, the Parquet schema kept."""
    sample = strided_sample(cur_day, 1_000)
    rows = pl.read_parquet(cur_day)
    step = rows.height // 1_000
    assert_frame_equal(pl.read_parquet(sample), rows.gather_every(step))


@pytest.mark.slow
def test_incremental_measure_times_both_tables(cur_day: Path, product_day, monkeypatch) -> None:
    """Day N (the product's allocated day) written and read back with history and without."""
    monkeypatch.setattr("bench.incremental.DATA_DIR", cur_day.parent)
    day = DeltaLake(str(product_day[1] / "lake")).read_day(tables.ALLOCATED_COSTS, DAY)
    result = measure(day, history_days=3, history_rows=100, repeats=1)
    assert result["history_days"] == 3
    assert result["history_seconds"] > 0 and result["empty_seconds"] > 0
    assert result["ratio"] == result["history_seconds"] / result["empty_seconds"]


@pytest.mark.slow
def test_a_31_day_cur_file_is_loaded_by_the_raw_asset_with_one_parse() -> None:
    """bench.period_parse (child process): aws_cur_raw's ranged run over the 31 days parses the
    month file once and writes the rows and billed total one parse of it gives."""
    from bench.measure import run_process

    result = run_process(["bench.period_parse", "--rows-per-day", "100"]).payload
    assert result["product_load"]["parses"] == 1
    assert result["same_rows_and_total"] and result["rows"] > 0
    assert result["rows"] == result["parse_once"]["rows"]
    assert result["ratio"] == result["product_load"]["seconds"] / result["parse_once"]["seconds"]
