"""GCP billing export source: real koku samples, credits, quarantine, format errors, FOCUS shape."""

import csv
import datetime as dt
import io
import json
from decimal import Decimal

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from finops_assets.domain.focus import SOURCE_FOCUS_COLUMNS
from finops_assets.domain.money import to_money
from finops_assets.domain.sources import gcp_billing_export as gcp
from finops_assets.domain.sources.common import QUARANTINE_COLUMNS, SourceFormatError

FETCHED = dt.datetime(2024, 3, 2, 6, tzinfo=dt.UTC)
HEADER = (
    "billing_account_id,service.id,service.description,sku.id,sku.description,usage_start_time,"
    "usage_end_time,project.id,project.name,labels,location.region,location.zone,cost,currency,"
    "usage.amount,usage.unit,credits,invoice.month,cost_type,resource.name"
)


def _row(
    cost: str,
    credits: str = "[]",
    *,
    start: str = "2024-03-01 03:00:00+00:00",
    cost_type="regular",
    labels="[]",
) -> str:
    cells = [
        "01A2-B3C4",
        "6F81-5844-456A",
        "Compute Engine",
        "CORE",
        "N2 Instance Core",
        start,
        "2024-03-01 04:00:00+00:00",
        "ml-research-prod",
        "ML Research",
        labels,
        "europe-west4",
        "europe-west4-b",
        cost,
        "EUR",
        "3600",
        "seconds",
        credits,
        "202403",
        cost_type,
        "vm-1",
    ]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue()


def _parse(text: str, name: str = "export.csv") -> gcp.ParseResult:
    return gcp.parse(text.encode(), source_file=name, ingestion_key="gcp:k", fetched_at=FETCHED)


def _credits(*items: tuple[str, str, str]) -> str:
    """Credits JSON with amounts as raw JSON numbers, as BigQuery writes them."""
    parts = [
        f'{{"name": "{name}", "amount": {amount}, "full_name": "{name} full", '
        f'"id": "id-{name}", "type": "{ctype}"}}'
        for name, amount, ctype in items
    ]
    return "[" + ", ".join(parts) + "]"


@pytest.mark.parametrize("name,rows", [("2022-08-01_5.csv", 9), ("2024-03-01_5.csv", 6)])
def test_koku_samples_parse_and_conserve(shared_data, name, rows):
    path = shared_data / "koku" / "gcp" / name
    result = gcp.parse(path.read_bytes(), source_file=name, ingestion_key="k", fetched_at=FETCHED)
    assert result.rows.height == rows
    assert result.quarantine.height == 0
    reference = sum((to_money(r["cost"]) for r in csv.DictReader(path.open())), Decimal(0))
    totals = gcp.billed_totals(result.rows)
    assert totals.to_dicts() == [{"currency": "USD", "amount": reference}]
    focus = gcp.to_focus(result.rows)
    assert focus["BilledCost"].sum() == reference
    assert focus["x_service_code"].unique().to_list() == ["Compute Engine"]
    assert focus["SubAccountId"].unique().to_list() == ["cloud-billing-292519"]


def test_scientific_notation_cost_is_exact(shared_data):
    path = shared_data / "koku" / "gcp" / "2022-08-01_5.csv"
    result = gcp.parse(path.read_bytes(), source_file="f", ingestion_key="k", fetched_at=FETCHED)
    assert sorted(result.rows["cost"].to_list())[-2:] == [Decimal("0.000002"), Decimal("0.00001")]


def test_credits_become_their_own_rows_and_conserve():
    credits = _credits(
        ("SUD", "-0.123456789012345678", "SUSTAINED_USAGE_DISCOUNT"),
        ("CUD", "-1.1", "COMMITTED_USAGE_DISCOUNT"),
    )
    labels = '[{"key": "cost-center", "value": "ml-research"}]'
    text = HEADER + "\n" + _row("10.5", credits, labels=labels) + _row("2e-06")
    result = _parse(text)
    assert result.quarantine.height == 0
    raw = result.rows
    assert raw["credits_total"].to_list() == [Decimal("-1.2234567890"), Decimal(0)]
    assert json.loads(raw["credits_json"][0])[0]["amount"] == "-0.123456789012345678"
    focus = gcp.to_focus(raw)
    assert focus.height == 4
    credit_rows = focus.filter(pl.col("ChargeCategory") == "Credit").sort("BilledCost")
    assert credit_rows["BilledCost"].to_list() == [Decimal("-1.1"), Decimal("-0.123456789")]
    assert credit_rows["CommitmentDiscountType"].to_list() == ["Committed Use Discount", None]
    assert credit_rows["CommitmentDiscountId"].to_list() == ["id-CUD", None]
    assert credit_rows["ChargeDescription"].to_list() == ["CUD full", "SUD full"]
    expected = Decimal("10.5") + Decimal("0.000002") - Decimal("1.2234567890")
    assert focus["BilledCost"].sum() == expected
    assert focus["EffectiveCost"].sum() == expected
    assert gcp.billed_totals(raw)["amount"].to_list() == [expected]
    assert focus["x_source_row_key"].n_unique() == 4
    usage = focus.filter(pl.col("ChargeCategory") == "Usage").sort("BilledCost")
    assert usage["Tags"].to_list() == [None, '{"cost-center":"ml-research"}']


def test_cost_types_map_to_charge_categories():
    text = (
        HEADER
        + "\n"
        + "".join(
            _row("1", cost_type=t) for t in ("regular", "tax", "adjustment", "rounding_error")
        )
    )
    focus = gcp.to_focus(_parse(text).rows).sort("x_source_row_key")
    assert focus["ChargeCategory"].to_list() == ["Usage", "Tax", "Adjustment", "Adjustment"]
    assert focus["ChargeClass"].to_list() == [None, None, "Correction", None]


def test_bad_amount_and_bad_date_are_quarantined_good_rows_kept():
    text = (
        HEADER
        + "\n"
        + _row("1.25")
        + _row("abc")
        + _row("2", start="2024-13-45 00:00")
        + _row("3", credits='[{"name": "x", "amount": "oops"}]')
    )
    result = _parse(text, "gcp.csv")
    assert result.rows["cost"].to_list() == [Decimal("1.25")]
    assert result.rows["x_source_line"].to_list() == [2]
    q = result.quarantine.sort("x_source_line")
    assert dict(q.schema) == QUARANTINE_COLUMNS
    assert q["x_source_line"].to_list() == [3, 4, 5]
    assert q["x_column"].to_list() == ["cost", "usage_start_time", "credits"]
    assert q["x_source_file"].unique().to_list() == ["gcp.csv"]
    assert q["x_amount"].to_list() == ["abc", "2", "3"]
    assert "abc" in q["x_reason"][0]
    assert json.loads(q["x_raw_record"][0])["cost"] == "abc"


def test_header_only_is_an_empty_result():
    result = _parse(HEADER + "\n")
    assert result.rows.height == 0
    assert dict(result.rows.schema) == gcp.RAW_COLUMNS
    assert result.quarantine.height == 0
    focus = gcp.to_focus(result.rows)
    assert dict(focus.schema) == SOURCE_FOCUS_COLUMNS


def test_other_provider_formats_are_rejected(shared_data):
    cur = (shared_data / "koku" / "aws" / "test_cur.csv").read_bytes()
    with pytest.raises(SourceFormatError, match="test_cur.csv"):
        gcp.parse(cur, source_file="test_cur.csv", ingestion_key="k", fetched_at=FETCHED)
    page = (shared_data / "azure-cost-management-query" / "BillingAccountQuery.json").read_bytes()
    with pytest.raises(SourceFormatError):
        gcp.parse(page, source_file="page.json", ingestion_key="k", fetched_at=FETCHED)


def test_to_focus_returns_exactly_the_source_focus_columns():
    text = HEADER + "\n" + _row("1", _credits(("P", "-0.5", "PROMOTION")))
    focus = gcp.to_focus(_parse(text).rows)
    assert list(focus.columns) == list(SOURCE_FOCUS_COLUMNS)
    assert dict(focus.schema) == SOURCE_FOCUS_COLUMNS
    assert focus["x_charge_date"].to_list() == [dt.date(2024, 3, 1)] * 2
    assert focus["BillingPeriodStart"][0] == dt.datetime(2024, 3, 1, tzinfo=dt.UTC)


def test_labels_as_object_and_unreadable_labels():
    text = HEADER + "\n" + _row("1", labels='{"team": "ml"}') + _row("2", labels="not json")
    result = _parse(text)
    assert gcp.to_focus(result.rows)["Tags"].to_list() == ['{"team":"ml"}']
    assert result.quarantine.select("x_source_line", "x_column").row(0) == (3, "labels")


def test_nested_parquet_with_string_cost_quarantines_by_row(tmp_path):
    start = dt.datetime(2024, 3, 1, 5, tzinfo=dt.UTC)
    credit = pa.struct([("name", pa.string()), ("amount", pa.string()), ("type", pa.string())])
    table = pa.table(
        {
            "service": pa.array([{"id": "s", "description": "BigQuery"}] * 2),
            "usage_start_time": pa.array([start, start], pa.timestamp("us", "UTC")),
            "usage_end_time": pa.array([start, start], pa.timestamp("us", "UTC")),
            "cost": pa.array(["1.000000001", "bad"]),
            "currency": pa.array(["EUR", "EUR"]),
            "credits": pa.array(
                [[{"name": "P", "amount": "-0.5", "type": "PROMOTION"}], []], pa.list_(credit)
            ),
            "labels": pa.array([[{"key": "k", "value": "v"}], None]),
        }
    )
    pq.write_table(table, tmp_path / "x.parquet")
    data = (tmp_path / "x.parquet").read_bytes()
    result = gcp.parse(data, source_file="x.parquet", ingestion_key="k", fetched_at=FETCHED)
    assert result.rows["cost"].to_list() == [Decimal("1.000000001")]
    assert result.rows["credits_total"].to_list() == [Decimal("-0.5")]
    assert result.quarantine.select("x_source_line", "x_column").row(0) == (2, "cost")
    focus = gcp.to_focus(result.rows)
    assert focus["BilledCost"].sum() == Decimal("0.500000001")
    assert focus["Tags"][0] == '{"k":"v"}'
