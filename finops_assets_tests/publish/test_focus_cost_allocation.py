"""focus_cost_allocation end to end: a 1-day sample estate on a real Dagster instance.

The day is materialized from the landing files through allocated_costs and
focus_cost_allocation; the Parquet dataset is read back (as a FOCUS reader would, with DuckDB)
and held against normalized_costs and allocated_costs in the lake.
"""

import datetime as dt

import dagster as dg
import duckdb
import polars as pl
import pyarrow.parquet as pq
import pytest

from finops_assets.conformance.check import NORMALIZE_SELECTION
from finops_assets.day_memo import RECOMPUTE_TAG
from finops_assets.demo import materialize_window
from finops_assets.domain import focus_allocation_day
from finops_assets.domain.focus_allocation import SPLIT_COLUMNS, SUMMABLE_METRICS
from finops_assets.domain.focus_allocation_contract import split_contract_failures
from finops_assets.publish.assets import focus_allocation_root
from finops_assets.sample.generate import generate_estate
from finops_assets.settings import Settings
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake

pytestmark = pytest.mark.slow

DAY = dt.date(2026, 10, 1)
RECOMPUTE = {RECOMPUTE_TAG: "true"}
SELECTION = (
    f"{NORMALIZE_SELECTION},k8s_usage_raw,allocation_rules,applicable_rules,allocated_costs,"
    "focus_cost_allocation"
)


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    home = tmp_path_factory.mktemp("focus-alloc-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FINOPS_HOME", str(home))
        patch.setattr(focus_allocation_day, "SLICE_PARTS", 50)  # the day in several slices
        settings = Settings.from_env()
        generate_estate(settings.landing_dir, DAY, 1, rows_per_day=120)
        (home / "dagster").mkdir(parents=True, exist_ok=True)
        with dg.instance_for_test(temp_dir=str(home / "dagster")) as instance:
            first = materialize_window(instance, DAY, DAY, SELECTION)
            root = focus_allocation_root(settings)
            files = sorted(root.glob("*/*.parquet"))
            before = {f: f.read_bytes() for f in files}
            # computed again, not reused by the day memo: the rewrite itself is what is tested
            again = materialize_window(instance, DAY, DAY, "focus_cost_allocation", tags=RECOMPUTE)
        lake = DeltaLake(settings.lake_uri)
        yield {
            "ok": first.success and again.success,
            "root": root,
            "files": files,
            "before": before,
            "normalized": lake.read_day(tables.NORMALIZED_COSTS, DAY),
            "allocated": lake.read_day(tables.ALLOCATED_COSTS, DAY),
        }


def test_the_day_is_written_by_billing_period_and_rewritten_identically(published):
    assert published["ok"]
    assert [f.parent.name for f in published["files"]] == ["billing_period=2026-10"]
    assert {f: f.read_bytes() for f in published["files"]} == published["before"]
    # written slice by slice (50 parts a slice here): one row group per slice, not the whole day
    groups = sum(pq.ParquetFile(f).metadata.num_row_groups for f in published["files"])
    assert groups >= published["allocated"].height // 60 > 1


def test_a_focus_reader_gets_every_split_row_summing_to_the_origin_charges(published):
    glob = str(published["root"] / "*" / "*.parquet")
    query = "SELECT * FROM read_parquet(?, hive_partitioning = false)"
    split = pl.from_arrow(duckdb.connect().execute(query, [glob]).to_arrow_table())
    allocated, normalized = published["allocated"], published["normalized"]
    assert split.height == allocated.height > 0
    assert set(SPLIT_COLUMNS) <= set(split.columns)
    for metric in SUMMABLE_METRICS:
        assert split[metric].sum() == normalized[metric].sum(), metric
    # DuckDB names UTC "Etc/UTC"; the same instants, in the lake's spelling for the contract
    utc = [
        pl.col(c).dt.convert_time_zone("UTC") for c, t in split.schema.items() if t == pl.Datetime
    ]
    split = split.with_columns(utc).select(list(SPLIT_COLUMNS))
    assert split_contract_failures(split, normalized) == []
    assert split["x_source_row_key"].n_unique() < split.height  # some charges are split
    remainder = split.filter(pl.col("AllocatedResourceId").is_null())
    assert remainder.height > 0
    assert remainder["AllocatedTags"].str.contains('"x_BusinessUnit":"unallocated"').all()
