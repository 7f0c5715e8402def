"""Unknown extra columns of an export land in x_extra_columns, original names and text values."""

import datetime as dt
import gzip
import io
import json
from pathlib import Path
from types import ModuleType

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from polars.testing import assert_frame_equal

from finops_assets.domain.sources import aws_cur, focus_export
from finops_assets.domain.sources import gcp_billing_export as gcp
from finops_assets.sample import aws_cur_writer, focus_export_writer, gcp_billing_export_writer

DAY = dt.date(2026, 10, 1)
FETCHED = dt.datetime(2026, 10, 2, tzinfo=dt.UTC)
CASES = [
    (aws_cur, aws_cur_writer, ".csv.gz"),
    (gcp, gcp_billing_export_writer, ".csv"),
    (focus_export, focus_export_writer, ".csv"),
]


def _parse(source: ModuleType, data: bytes) -> pl.DataFrame:
    result = source.parse(data, source_file="f", ingestion_key="k", fetched_at=FETCHED)
    assert result.quarantine.is_empty()
    return result.rows


def _sample_csv(writer: ModuleType, suffix: str, folder: Path) -> pl.DataFrame:
    (path,) = [
        p for p in writer.write_day(folder, DAY, seed=3, rows_per_day=60) if p.name.endswith(suffix)
    ]
    data = path.read_bytes()
    return pl.read_csv(
        io.BytesIO(gzip.decompress(data) if suffix.endswith(".gz") else data), infer_schema=False
    )


def _extras(rows: pl.DataFrame) -> list[dict]:
    return [json.loads(v) if v is not None else {} for v in rows["x_extra_columns"]]


@pytest.mark.parametrize(
    ("source", "writer", "suffix"), CASES, ids=lambda c: getattr(c, "SOURCE", None)
)
def test_an_unknown_column_lands_in_x_extra_columns_and_totals_are_unchanged(
    source, writer, suffix, tmp_path
):
    text = _sample_csv(writer, suffix, tmp_path)
    teams = [f"team-{i % 3}" if i % 4 else None for i in range(text.height)]
    extended = text.with_columns(pl.Series("x_custom_team", teams, pl.Utf8))
    plain = _parse(source, text.write_csv().encode())
    rows = _parse(source, extended.write_csv().encode())
    assert list(rows.schema.items()) == list(source.RAW_COLUMNS.items())
    extras = _extras(rows)
    assert [e.pop("x_custom_team") for e in extras] == teams
    assert extras == _extras(plain)  # the other unknown columns, as before
    assert_frame_equal(rows.drop("x_extra_columns"), plain.drop("x_extra_columns"))
    assert_frame_equal(source.billed_totals(rows), source.billed_totals(plain))
    assert rows.height == text.height


def test_a_file_without_unknown_columns_has_null_x_extra_columns(tmp_path):
    (path,) = focus_export_writer.write_day(tmp_path, DAY, seed=3, rows_per_day=10)
    rows = _parse(focus_export, path.read_bytes())
    assert rows.height == 10
    assert rows["x_extra_columns"].null_count() == rows.height


def test_legacy_cur_headers_keep_their_original_names_and_text(tmp_path):
    header = "lineItem/LineItemType,lineItem/UsageAccountId,lineItem/UsageStartDate,"
    header += "lineItem/UnblendedCost,lineItem/CurrencyCode,lineItem/BlendedCost,"
    header += "resourceTags/user:team,Odd name/é:x"
    row = 'Usage,111,2026-10-01T00:00:00Z,1.25,USD,0.1000000001,web,"a,""b"""'
    rows = _parse(aws_cur, f"{header}\n{row}\n".encode())
    assert _extras(rows) == [{"lineItem/BlendedCost": "0.1000000001", "Odd name/é:x": 'a,"b"'}]
    assert json.loads(rows["resource_tags"][0]) == {"user_team": "web"}


def test_parquet_extra_columns_become_text_and_json(tmp_path):
    """AWS Parquet exports: doubles, maps and timestamps of unknown columns, as text."""
    (path,) = [
        p
        for p in aws_cur_writer.write_day(tmp_path, DAY, seed=3, rows_per_day=60)
        if p.name.endswith(".parquet")
    ]
    table = pq.read_table(path)
    n = table.num_rows
    categories = pa.array([[("team", "data")]] * n, pa.map_(pa.string(), pa.string()))
    blended = pa.array([0.5] * n, pa.float64())
    stamp = pa.array([dt.datetime(2026, 10, 1, 3)] * n, pa.timestamp("ms", "UTC"))
    table = (
        table.append_column("cost_category", categories)
        .append_column("line_item_blended_cost", blended)
        .append_column("bill_last_seen", stamp)
    )
    sink = io.BytesIO()
    pq.write_table(table, sink)
    rows = _parse(aws_cur, sink.getvalue())
    plain = _parse(aws_cur, path.read_bytes())
    extra = _extras(rows)[0]
    assert extra["line_item_blended_cost"] == "0.5"
    assert extra["bill_last_seen"] == "2026-10-01T03:00:00Z"
    assert json.loads(extra["cost_category"]) == [{"key": "team", "value": "data"}]
    assert_frame_equal(aws_cur.billed_totals(rows), aws_cur.billed_totals(plain))
