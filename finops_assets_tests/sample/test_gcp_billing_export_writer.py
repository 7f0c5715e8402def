"""GCP export sample writer: deterministic bytes, real layout, exact round trip through FOCUS."""

import csv
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from finops_assets.domain.money import to_money
from finops_assets.domain.sources import gcp_billing_export as gcp
from finops_assets.sample import estate
from finops_assets.sample import gcp_billing_export_writer as writer

DAY = dt.date(2024, 3, 1)
FETCHED = dt.datetime(2024, 3, 2, tzinfo=dt.UTC)


def _reference_csv(path: Path) -> Decimal:
    """Python Decimal total of cost + credit amounts, independent of Polars."""
    total = Decimal(0)
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            total += to_money(row["cost"])
            for credit in json.loads(row["credits"], parse_float=Decimal):
                total += to_money(credit["amount"])
    return total


def _reference_parquet(path: Path) -> Decimal:
    total = Decimal(0)
    for row in pq.read_table(path).to_pylist():
        total += row["cost"] + sum((c["amount"] for c in row["credits"]), Decimal(0))
    return total


def test_same_arguments_same_bytes(tmp_path):
    first = writer.write_day(tmp_path / "a", DAY, seed=3, rows_per_day=900)
    second = writer.write_day(tmp_path / "b", DAY, seed=3, rows_per_day=900)
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    other = writer.write_day(tmp_path / "c", DAY, seed=4, rows_per_day=900)
    assert first[0].read_bytes() != other[0].read_bytes()
    assert first[0].parent == tmp_path / "a" / "gcp_billing_export" / "2024-03-01"


def test_round_trip_conserves_every_cent(tmp_path, monkeypatch):
    monkeypatch.setattr(writer, "CHUNK_ROWS", 400)  # several chunks and row groups
    csv_path, parquet_path = writer.write_day(tmp_path, DAY, seed=11, rows_per_day=1500)
    assert pq.ParquetFile(parquet_path).num_row_groups > 1
    for path, reference in ((csv_path, _reference_csv), (parquet_path, _reference_parquet)):
        result = gcp.parse(
            path.read_bytes(), source_file=path.name, ingestion_key="k", fetched_at=FETCHED
        )
        assert result.quarantine.height == 0
        expected = reference(path)
        assert gcp.billed_totals(result.rows).to_dicts() == [
            {"currency": "EUR", "amount": expected}
        ]
        focus = gcp.to_focus(result.rows)
        assert focus["BilledCost"].sum() == expected
        assert focus["x_source_row_key"].n_unique() == focus.height
        assert focus["x_charge_date"].unique().to_list() == [DAY]
        credits = focus.filter(pl.col("ChargeCategory") == "Credit")
        assert credits.height == result.rows.filter(pl.col("credits_total") != 0).height
        assert (credits["BilledCost"] < 0).all()


def test_parquet_keeps_bigquery_nested_types_and_no_floats(tmp_path):
    _, parquet_path = writer.write_day(tmp_path, DAY, seed=5, rows_per_day=300)
    schema = pq.read_schema(parquet_path)
    assert schema.field("cost").type == pa.decimal128(38, 9)
    assert pa.types.is_struct(schema.field("service").type)
    assert schema.field("credits").type.value_type.field("amount").type == pa.decimal128(38, 9)
    assert schema.field("labels").type.value_type.names == ["key", "value"]
    floats = [f.name for f in schema if pa.types.is_floating(f.type)]
    assert floats == []


def test_sample_content_matches_the_estate(tmp_path):
    csv_path, parquet_path = writer.write_day(tmp_path, DAY, seed=1, rows_per_day=3000)
    rows = [
        gcp.parse(p.read_bytes(), source_file=p.name, ingestion_key="k", fetched_at=FETCHED).rows
        for p in (csv_path, parquet_path)
    ]
    projects = [sorted(r["project_id"].unique().to_list()) for r in rows]
    assert projects == [["data-lake-prod", "ml-research-prod"], ["shared-gke-prod"]]
    focus = gcp.to_focus(pl.concat(rows))
    assert set(focus["ServiceName"]) >= {
        "Compute Engine",
        "Cloud Storage",
        "BigQuery",
        "Kubernetes Engine",
    }
    tags = focus["Tags"].drop_nulls().to_list()
    keys = {k for t in tags for k in json.loads(t)}
    assert keys >= set(estate.COST_CENTER_TAG_SPELLINGS) | {"goog-k8s-cluster-name"}
    assert focus.filter(pl.col("SubAccountId") == "ml-research-prod")["Tags"].null_count() > 0
    gke = focus.filter(
        pl.col("SubAccountId") == "shared-gke-prod", pl.col("ChargeCategory") == "Usage"
    )
    assert set(gke["ResourceName"].drop_nulls()) <= set(writer.GKE_NODE_NAMES)
    credit_names = set(focus.filter(pl.col("ChargeCategory") == "Credit")["ChargeDescription"])
    assert len(credit_names) == 3
    assert focus.filter(pl.col("CommitmentDiscountType").is_not_null()).height > 0
    assert focus.filter(pl.col("ChargeCategory") == "Tax").height == 3
    assert set(focus["BillingCurrency"]) == {"EUR"}


def test_no_tax_rows_after_the_first(tmp_path):
    paths = writer.write_day(tmp_path, dt.date(2024, 3, 2), seed=1, rows_per_day=60)
    raw = [
        gcp.parse(p.read_bytes(), source_file=p.name, ingestion_key="k", fetched_at=FETCHED).rows
        for p in paths
    ]
    assert sum(r.height for r in raw) == 60
    assert all((r["cost_type"] == "regular").all() for r in raw)


def test_zero_rows_writes_header_only_files_that_parse_empty(tmp_path):
    paths = writer.write_day(tmp_path, dt.date(2024, 3, 2), seed=1, rows_per_day=0)
    for path in paths:
        result = gcp.parse(
            path.read_bytes(), source_file=path.name, ingestion_key="k", fetched_at=FETCHED
        )
        assert result.rows.height == 0 and result.quarantine.height == 0
        assert dict(result.rows.schema) == gcp.RAW_COLUMNS
