"""Exactly-once raw ingestion through the real raw asset, a real Dagster instance and Delta."""

import datetime as dt
import gzip
import json
import shutil
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from finops_assets.domain.sources import aws_cost_explorer, aws_cur
from finops_assets.ingest.assets import build_raw_asset
from finops_assets.resources.lake import LakeResource, LandingResource
from finops_assets.sample import aws_cost_explorer_writer, aws_cur_writer, gcp_billing_export_writer
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake

pytestmark = pytest.mark.slow

DAY = dt.date(2026, 10, 4)


def _run(source, landing: Path, lake: Path) -> dg.ExecuteInProcessResult:
    with dg.instance_for_test() as instance:
        return dg.materialize(
            [build_raw_asset(source)],
            partition_key=DAY.isoformat(),
            instance=instance,
            resources={
                "lake": LakeResource(lake_uri=str(lake)),
                "landing": LandingResource(landing_dir=str(landing)),
            },
            raise_on_error=False,
        )


def _rows(source, lake: Path) -> pl.DataFrame:
    return DeltaLake(str(lake)).read_day(tables.raw_contract(source), DAY)


def _metadata(result: dg.ExecuteInProcessResult) -> dict:
    [materialization] = result.get_asset_materialization_events()
    materialization = materialization.materialization
    return {k: v.value for k, v in materialization.metadata.items()}


def test_the_same_input_twice_gives_the_same_raw_table(tmp_path):
    landing, lake = tmp_path / "landing", tmp_path / "lake"
    aws_cur_writer.write_day(landing, DAY, seed=5, rows_per_day=300)
    assert _run(aws_cur, landing, lake).success
    first = _rows(aws_cur, lake)
    assert _run(aws_cur, landing, lake).success
    assert first.height > 0
    assert_frame_equal(_rows(aws_cur, lake), first)


def test_a_restated_day_replaces_the_day_and_never_appends(tmp_path):
    landing, lake = tmp_path / "landing", tmp_path / "lake"
    aws_cur_writer.write_day(landing, DAY, seed=5, rows_per_day=300)
    assert _run(aws_cur, landing, lake).success
    shutil.rmtree(landing / "aws_cur" / DAY.isoformat())
    aws_cur_writer.write_day(landing, DAY, seed=6, rows_per_day=150)  # the restated export
    assert _run(aws_cur, landing, lake).success
    assert _run(aws_cur, landing, tmp_path / "fresh").success  # the restated export alone
    restated, fresh = _rows(aws_cur, lake), _rows(aws_cur, tmp_path / "fresh")
    assert_frame_equal(restated, fresh)
    assert_frame_equal(aws_cur.billed_totals(restated), aws_cur.billed_totals(fresh))


def test_a_header_only_export_is_an_empty_day_not_an_error(tmp_path):
    landing, lake = tmp_path / "landing", tmp_path / "lake"
    files = aws_cur_writer.write_day(landing, DAY, seed=5, rows_per_day=50)
    [csv_gz] = [p for p in files if p.name.endswith(".csv.gz")]
    header = gzip.decompress(csv_gz.read_bytes()).split(b"\n", 1)[0] + b"\n"
    for path in files:
        path.unlink()
    (csv_gz.parent / "header-only.csv.gz").write_bytes(gzip.compress(header, mtime=0))
    result = _run(aws_cur, landing, lake)
    assert result.success
    assert _metadata(result)["rows"] == 0 and _metadata(result)["payloads"] == 1
    assert _rows(aws_cur, lake).height == 0


def test_a_file_in_the_wrong_providers_format_fails_naming_the_file(tmp_path):
    landing, lake = tmp_path / "landing", tmp_path / "lake"
    gcp_files = gcp_billing_export_writer.write_day(tmp_path / "gcp", DAY, seed=5, rows_per_day=30)
    [gcp_csv] = [p for p in gcp_files if p.suffix == ".csv"]
    target = landing / "aws_cur" / DAY.isoformat() / gcp_csv.name
    target.parent.mkdir(parents=True)
    shutil.copy(gcp_csv, target)
    result = _run(aws_cur, landing, lake)
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    message = str(failure.step_failure_data.error)
    # The file is refused (quarantined as a file); all of the day's files refused fails the day.
    assert f"{DAY}: check_quarantined_money" in message and "not an AWS CUR file" in message
    assert f"aws_cur/{DAY}/{gcp_csv.name}" in message
    assert not DeltaLake(str(lake)).exists(tables.raw_contract(aws_cur))


def test_one_bad_row_is_quarantined_and_the_good_rows_land(tmp_path):
    landing, lake = tmp_path / "landing", tmp_path / "lake"
    [page_path] = aws_cost_explorer_writer.write_day(landing, DAY, seed=5, rows_per_day=20)
    page = json.loads(page_path.read_text())
    groups = page["ResultsByTime"][0]["Groups"]
    groups[3]["Metrics"]["UnblendedCost"]["Amount"] = "12,50"  # unparseable
    page_path.write_text(json.dumps(page))
    result = _run(aws_cost_explorer, landing, lake)
    assert result.success
    assert _metadata(result)["rows"] == len(groups) - 1
    assert _metadata(result)["quarantined_rows"] == 1
    assert _rows(aws_cost_explorer, lake).height == len(groups) - 1
    quarantine = DeltaLake(str(lake)).read_day(tables.QUARANTINE, DAY)
    [bad] = quarantine.to_dicts()
    assert bad["x_source"] == "aws_cost_explorer"
    assert bad["x_source_file"] == f"aws_cost_explorer/{DAY}/page-0001.json"
    assert bad["x_source_line"] == 4
    assert bad["x_column"] == "Metrics.UnblendedCost.Amount"
    assert "unparseable UnblendedCost amount: 12,50" in bad["x_reason"]
