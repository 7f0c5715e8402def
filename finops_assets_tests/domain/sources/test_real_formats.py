"""Every real export format of issue 15, read from public files (see public_data/SOURCES.md).

Each file parses with nothing quarantined, its charge days come from its rows (never from the
file's time), and its totals per currency equal an independent reference read with the csv
module and Python Decimal (each amount half-up at MONEY's scale, as stored).
"""

import ast
import csv
import datetime as dt
import io
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from finops_assets.domain.money import to_money
from finops_assets.domain.sources import aws_cur, azure_cost, common, focus_export
from finops_assets.domain.sources import gcp_billing_export as gcp
from finops_assets.domain.sources.detect import detect_format

# The files' modification time is never a charge day: parse with a fetch time far from them.
FETCHED = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
SOURCES = {m.SOURCE: m for m in (aws_cur, azure_cost, gcp, focus_export)}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def _reference(rows, amount, currency) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        totals[currency(row)] += to_money(amount(row))
    return dict(totals)


def _parse(path: Path, expected_source: str) -> common.ParseResult:
    data = path.read_bytes()
    assert detect_format(data, path.name) == expected_source
    source = SOURCES[expected_source]
    return source.parse(data, source_file=path.name, ingestion_key="k", fetched_at=FETCHED)


def _totals(source, rows: pl.DataFrame) -> dict[str, Decimal]:
    return {r["currency"]: r["amount"] for r in source.billed_totals(rows).to_dicts()}


def _days(rows: pl.DataFrame) -> set[str]:
    return {d.isoformat() for d in rows["x_charge_date"].to_list()}


AZURE = {
    # legacy usage exports: UsageDateTime + PreTaxCost, PascalCase and camelCase
    "koku/azure/costreport_a243c6f2-199f-4074-9a2c-40e671cf1584.csv": (
        "UsageDateTime",
        "PreTaxCost",
        "Currency",
        {"2019-07-28", "2019-07-29"},
    ),
    "koku/azure/azure_camelCased.csv": (
        "usageDateTime",
        "preTaxCost",
        "currency",
        {"2019-07-28", "2019-07-29"},
    ),
    # MCA actual cost in camelCase, EA actual and amortized (US dates MM/DD/YYYY)
    "koku/azure/camel_azure_version_2.csv": (
        "date",
        "costInBillingCurrency",
        "billingCurrency",
        None,
    ),
    "finops-toolkit/exports/EA_ActualCost_Small.csv": ("Date", "Cost", "BillingCurrency", None),
    "finops-toolkit/exports/EA_AmortizedCost_Small.csv": (
        "Date",
        "Cost",
        "BillingCurrency",
        None,
    ),
}


def _us_or_iso_day(text: str) -> str:
    text = text.strip()[:10]
    if "/" in text:
        month, day, year = text.split()[0].split("/")
        return dt.date(int(year), int(month), int(day)).isoformat()
    return text


@pytest.mark.parametrize("relative", sorted(AZURE))
def test_azure_exports_are_dated_by_their_rows_with_exact_totals(shared_data, relative):
    date_column, cost_column, currency_column, days = AZURE[relative]
    path = shared_data / relative
    result = _parse(path, "azure_cost")
    rows = _rows(path)

    assert result.quarantine.is_empty()
    assert result.rows.height == len(rows)
    expected_days = {_us_or_iso_day(r[date_column]) for r in rows}
    assert _days(result.rows) == expected_days
    if days is not None:
        assert expected_days == days
    reference = _reference(rows, lambda r: _billed(r, cost_column), lambda r: r[currency_column])
    assert _totals(azure_cost, result.rows) == reference


def _billed(row: dict[str, str], cost_column: str) -> str:
    """The billed amount: 0 on usage a reservation or savings plan covers (Microsoft's FOCUS
    conversion; in an amortized export that cost is the purchase's amortized share)."""
    covered = row.get("ChargeType") == "Usage" and row.get("PricingModel") in (
        "Reservation",
        "SavingsPlan",
    )
    return "0" if covered else row[cost_column]


def test_gcp_credits_and_labels_as_python_repr_keep_every_row_and_cent(shared_data):
    path = (
        shared_data / "koku/gcp/202011_30c31bca571d9b7f3b2c8459dd8bc34a_2020-11-08_2020-11-11.csv"
    )
    result = _parse(path, "gcp_billing_export")
    rows = _rows(path)

    assert result.quarantine.is_empty()
    assert result.rows.height == len(rows) == 25
    assert "'" in rows[0]["credits"]  # the file really is Python repr, not JSON

    def charged(row: dict[str, str]) -> Decimal:
        credits = ast.literal_eval(row["credits"]) if row["credits"] else []
        # amounts read from their text (repr of the float), never summed as floats
        texts = [repr(c["amount"]) for c in credits]
        return to_money(row["cost"]) + sum((to_money(t) for t in texts), Decimal(0))

    totals: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        totals[row["currency"]] += charged(row)
    assert _totals(gcp, result.rows) == dict(totals)
    labelled = result.rows.filter(pl.col("labels_json") != "[]")
    assert labelled.height > 0
    assert labelled["labels_json"].str.contains('"key":"goog-resource-type"').all()


def test_cur_20_snake_case_columns(shared_data):
    path = shared_data / "koku/aws/2022-07-01-alt-columns.csv"
    result = _parse(path, "aws_cur")
    rows = _rows(path)

    assert result.quarantine.is_empty()
    assert result.rows.height == len(rows)
    assert _days(result.rows) == {r["line_item_usage_start_date"][:10] for r in rows}
    reference = _reference(
        rows, lambda r: r["line_item_unblended_cost"], lambda r: r["line_item_currency_code"]
    )
    assert _totals(aws_cur, result.rows) == reference


def test_koku_cur_rows_short_of_a_trailing_cost_category_still_read(shared_data):
    """koku's CUR: the header has 131 columns, every row 130 (costCategory/CostCenter added
    later): the missing cell is empty, every cost is where the header says."""
    path = shared_data / "koku/aws/test_cur.csv"
    lines = path.read_text().splitlines()
    assert len(lines[0].split(",")) == 131 and len(lines[1].split(",")) == 130
    result = _parse(path, "aws_cur")
    assert result.quarantine.is_empty() and result.rows.height == 19


def test_a_cur_row_short_of_its_cost_is_refused_with_a_field_count(shared_data):
    lines = (shared_data / "koku/aws/test_cur.csv").read_text().splitlines()
    width = len(lines[0].split(","))
    cut = ",".join(lines[3].split(",")[:20])  # before lineItem/UnblendedCost
    data = "\n".join([*lines[:3], cut, *lines[4:]]).encode() + b"\n"

    with pytest.raises(common.SourceFormatError) as refused:
        aws_cur.parse(data, source_file="cur.csv", ingestion_key="k", fetched_at=FETCHED)
    message = str(refused.value)
    assert f"cur.csv: line 4 has 20 fields, the header has {width}" in message
    assert "lineItem/UnblendedCost" in message


def test_a_cur_row_longer_than_its_header_is_refused(shared_data):
    lines = (shared_data / "koku/aws/test_cur.csv").read_text().splitlines()
    data = "\n".join([*lines[:2], lines[2] + ",extra,extra", *lines[3:]]).encode() + b"\n"
    with pytest.raises(common.SourceFormatError, match=r"cur\.csv: line 3 has 132 fields"):
        aws_cur.parse(data, source_file="cur.csv", ingestion_key="k", fetched_at=FETCHED)


def _us_timestamp(text: str) -> str:
    """'2023-05-01T00:00:00Z'-like text rewritten as M/D/YYYY H:MM:SS AM/PM (a US export)."""
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    hour = moment.hour % 12 or 12
    half = "AM" if moment.hour < 12 else "PM"
    return f"{moment.month}/{moment.day}/{moment.year} {hour}:{moment:%M:%S} {half}"


def test_focus_file_with_us_dates_reads_like_the_iso_original(shared_data):
    path = shared_data / "focus-sample-data/FOCUS-1.0/focus_sample.csv"
    original = focus_export.parse(
        path.read_bytes(), source_file="f.csv", ingestion_key="k", fetched_at=FETCHED
    )
    frame = pl.read_csv(path, infer_schema=False)
    columns = ["ChargePeriodStart", "ChargePeriodEnd", "BillingPeriodStart", "BillingPeriodEnd"]
    us = frame.with_columns(
        pl.col(c).map_elements(_us_timestamp, return_dtype=pl.Utf8) for c in columns
    )
    sink = io.BytesIO()
    us.write_csv(sink)
    assert "/" in us["ChargePeriodStart"][0]

    rewritten = focus_export.parse(
        sink.getvalue(), source_file="f.csv", ingestion_key="k", fetched_at=FETCHED
    )
    assert rewritten.quarantine.is_empty()
    assert rewritten.rows.select(columns + ["x_charge_date"]).equals(
        original.rows.select(columns + ["x_charge_date"])
    )
    assert _totals(focus_export, rewritten.rows) == _totals(focus_export, original.rows)
