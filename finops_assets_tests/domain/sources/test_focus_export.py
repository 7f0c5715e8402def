"""FOCUS export source: real samples ingest to the cent, bad rows are quarantined, not lost."""

import csv
import datetime as dt
import gzip
import io
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from finops_assets.domain import focus
from finops_assets.domain.money import MONEY, to_money
from finops_assets.domain.sources import common, focus_export

FETCHED = dt.datetime(2024, 10, 2, tzinfo=dt.UTC)
COMMITMENTS = "focus-spec-examples/commitment_discount_scenarios_index"
HEADER = (
    "BillingPeriodStart,BillingPeriodEnd,ChargePeriodStart,ChargePeriodEnd,BilledCost,"
    "EffectiveCost,ListCost,BillingCurrency,ProviderName,ChargeClass,Tags,x_Custom"
)
GOOD = '2024-01-01,2024-02-01,{start},2024-01-05T03:00:00Z,{billed},2.5,,USD,AWS,,"{{}}",a'


def _parse(data: bytes, name: str = "export.csv") -> common.ParseResult:
    return focus_export.parse(data, source_file=name, ingestion_key="key-1", fetched_at=FETCHED)


def _reference_totals(path: Path, column: str, *, per_row_money: bool = True) -> dict[str, Decimal]:
    """Python Decimal sums per currency, read with the csv module (the independent reference).

    per_row_money: each value half-up to MONEY's scale first, as the contract stores it.
    """
    totals: dict[str, Decimal] = defaultdict(Decimal)
    with path.open(newline="", encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            value = Decimal(row[column])
            totals[row["BillingCurrency"]] += to_money(value) if per_row_money else value
    return dict(totals)


def _as_dict(frame: pl.DataFrame) -> dict[str, Decimal]:
    return {r["currency"]: r["amount"] for r in frame.to_dicts()}


def test_focus_10_sample_ingests_with_exact_totals(shared_data: Path) -> None:
    path = shared_data / "focus-sample-data/FOCUS-1.0/focus_sample.csv"
    result = _parse(path.read_bytes(), path.name)

    assert result.rows.height == 1000
    assert result.quarantine.is_empty()
    assert result.rows.schema == pl.Schema(focus_export.RAW_COLUMNS)
    totals = _as_dict(focus_export.billed_totals(result.rows))
    assert totals == _reference_totals(path, "BilledCost")
    # 7 of the sample's BilledCost values carry an 11th decimal that MONEY (scale 10) rounds
    # half-up: the stored total is 9e-11 below the exact sum of the file's text.
    exact = _reference_totals(path, "BilledCost", per_row_money=False)
    assert exact == {"USD": Decimal("20.52022672899")}
    assert exact["USD"] - totals["USD"] == Decimal("0.00000000009")
    assert result.rows["x_source_line"].to_list() == list(range(2, 1002))


def test_focus_10_sample_to_focus_normalizes_variants(shared_data: Path) -> None:
    path = shared_data / "focus-sample-data/FOCUS-1.0/focus_sample.csv"
    out = focus_export.to_focus(_parse(path.read_bytes(), path.name).rows)

    assert out.schema == pl.Schema(focus.SOURCE_FOCUS_COLUMNS)
    assert set(out["ChargeFrequency"].unique()) == {"Usage-Based", "One-Time"}
    assert out["ChargeClass"].null_count() == 1000  # 'NULL' text became null
    assert out["Tags"].null_count() == 289
    assert out["x_provider"].value_counts().sort("x_provider").rows() == [
        ("aws", 942),
        ("azure", 51),
        ("oci", 7),
    ]
    assert out["x_source_row_key"].n_unique() == 1000
    assert (out["x_service_code"] == out["ServiceName"]).all()
    first = out.filter(pl.col("x_source_row_key") == "key-1|focus_sample.csv|2").row(0, named=True)
    assert first["ChargePeriodStart"] == dt.datetime(2024, 9, 18, 22, tzinfo=dt.UTC)
    assert first["x_charge_date"] == dt.date(2024, 9, 18)
    assert first["AvailabilityZone"] is None
    credit = out.filter(pl.col("ChargeCategory") == "Credit").row(0, named=True)
    assert (credit["BilledCost"], credit["EffectiveCost"]) == (Decimal("-2.6137"), Decimal(-3))


def test_tags_become_canonical_json_objects() -> None:
    tags = pl.Series(
        "Tags", ['{"b": "2", "a": "1"}', "NULL", "", None, '[{"key": "k", "value": "v"}]']
    )
    assert focus_export.canonical_tags(tags).to_list() == [
        '{"a":"1","b":"2"}',
        None,
        None,
        None,
        '{"k":"v"}',
    ]


@pytest.mark.parametrize("name", sorted(["aws_savings_plan_all_upfront_50pct.csv",
                                         "aws_savings_plan_partial_upfront_100pct.csv",
                                         "azure_reservation_all_upfront_100pct.csv",
                                         "gcp_flex_cud_partial_upfront_100pct.csv"]))  # fmt: skip
def test_commitment_examples_conserve_billed_and_effective_cost(
    shared_data: Path, name: str
) -> None:
    path = shared_data / COMMITMENTS / name
    result = _parse(path.read_bytes(), name)
    assert result.quarantine.is_empty()
    out = focus_export.to_focus(result.rows)

    assert _as_dict(focus_export.billed_totals(result.rows)) == _reference_totals(
        path, "BilledCost"
    )
    assert (
        out["EffectiveCost"].sum()
        == _reference_totals(path, "EffectiveCost", per_row_money=False)["USD"]
    )
    assert (
        out["BilledCost"].sum() == _reference_totals(path, "BilledCost", per_row_money=False)["USD"]
    )
    assert out["CommitmentDiscountStatus"].drop_nulls().is_in(["Used", "Unused"]).all()


def test_commitment_amortization_matches_the_spec_rows(shared_data: Path) -> None:
    """AWS all-upfront Savings Plan, 50% used: 24 hourly rows at 79.11, half Used, half Unused."""
    path = shared_data / COMMITMENTS / "aws_savings_plan_all_upfront_50pct.csv"
    out = focus_export.to_focus(_parse(path.read_bytes(), path.name).rows)
    by_status = (
        out.filter(pl.col("CommitmentDiscountStatus").is_not_null())
        .group_by("CommitmentDiscountStatus")
        .agg(pl.col("EffectiveCost").sum(), pl.col("BilledCost").sum(), pl.len())
        .sort("CommitmentDiscountStatus")
    )
    assert by_status.rows() == [
        ("Unused", Decimal("949.32"), Decimal(0), 12),
        ("Used", Decimal("949.32"), Decimal(0), 12),
    ]
    purchase = out.filter(pl.col("ChargeCategory") == "Purchase")
    assert purchase["BilledCost"].to_list() == [Decimal("693003.60")]
    assert purchase["EffectiveCost"].to_list() == [Decimal(0)]
    assert set(out["x_provider"]) == {"aws"}


def test_timestamp_variants_all_land_in_utc() -> None:
    starts = [
        "2024-01-05T01:00:00Z",
        "2024-01-05T01:00:00",
        "2024-01-05 01:00:00",
        "2024-01-05T01:00:00.000Z",
        "2024-01-05T03:00:00+02:00",
        "2024-01-04T23:30:00-01:30",
    ]
    lines = [GOOD.format(start=s, billed="1") for s in starts]
    result = _parse(("\n".join([HEADER, *lines]) + "\n").encode())
    assert result.quarantine.is_empty()
    assert set(result.rows["ChargePeriodStart"]) == {dt.datetime(2024, 1, 5, 1, tzinfo=dt.UTC)}
    assert set(result.rows["x_charge_date"]) == {dt.date(2024, 1, 5)}


def test_bad_rows_are_quarantined_with_line_and_column_and_good_rows_kept() -> None:
    lines = [
        GOOD.format(start="2024-01-05T01:00:00Z", billed="1.25"),
        GOOD.format(start="2024-13-45T01:00:00Z", billed="2"),
        GOOD.format(start="2024-01-05T01:00:00Z", billed='"12,5"'),
        GOOD.format(start="2024-01-05T01:00:00Z", billed="NULL"),
        GOOD.format(start="2024-01-05T01:00:00Z", billed="3.75"),
    ]
    result = _parse(("\n".join([HEADER, *lines]) + "\n").encode())

    assert result.rows["x_source_line"].to_list() == [2, 6]
    assert result.rows["BilledCost"].sum() == Decimal("5.00")
    q = result.quarantine.sort("x_source_line")
    assert q.schema == pl.Schema(common.QUARANTINE_COLUMNS)
    assert q["x_source_line"].to_list() == [3, 4, 5]
    assert q["x_column"].to_list() == ["ChargePeriodStart", "BilledCost", "BilledCost"]
    assert "2024-13-45T01:00:00Z" in q["x_reason"][0]
    assert "12,5" in q["x_reason"][1]
    assert q["x_reason"][2] == "missing required amount"
    assert set(q["x_source_file"]) == {"export.csv"}
    assert q["x_amount"].to_list() == ["2", "12,5", "NULL"]
    assert json.loads(q["x_raw_record"][1])["x_Custom"] == "a"


def test_optional_amounts_may_be_null_but_not_garbage() -> None:
    lines = [GOOD.format(start="2024-01-05T01:00:00Z", billed="1")]
    bad = lines[0].replace(",2.5,,USD", ",2.5,n/a,USD")
    result = _parse(("\n".join([HEADER, lines[0], bad]) + "\n").encode())
    assert result.rows["ListCost"].to_list() == [None]
    assert result.quarantine["x_column"].to_list() == ["ListCost"]


def test_header_only_file_is_an_empty_result() -> None:
    result = _parse((HEADER + "\n").encode())
    assert result.rows.is_empty() and result.quarantine.is_empty()
    assert result.rows.schema == pl.Schema(focus_export.RAW_COLUMNS)
    assert focus_export.to_focus(result.rows).schema == pl.Schema(focus.SOURCE_FOCUS_COLUMNS)


def test_gcp_export_is_refused_with_the_missing_columns(shared_data: Path) -> None:
    path = shared_data / "koku/gcp/2022-08-01_5.csv"
    with pytest.raises(common.SourceFormatError, match=r"2022-08-01_5.csv.*BilledCost"):
        _parse(path.read_bytes(), path.name)


def test_gzip_and_parquet_read_like_csv(shared_data: Path) -> None:
    path = shared_data / "focus-sample-data/FOCUS-1.0/focus_sample.csv"
    data = path.read_bytes()
    plain = _parse(data).rows
    buffer = io.BytesIO()
    pl.read_csv(data, infer_schema=False).write_parquet(buffer)
    for payload in (gzip.compress(data, mtime=0), buffer.getvalue()):
        rows = _parse(payload).rows
        assert rows.height == 1000
        assert rows["BilledCost"].to_list() == plain["BilledCost"].to_list()


def test_parquet_with_typed_timestamps_and_decimals() -> None:
    frame = pl.DataFrame(
        {
            "BillingPeriodStart": [dt.datetime(2024, 1, 1, tzinfo=dt.UTC)],
            "BillingPeriodEnd": [dt.datetime(2024, 2, 1, tzinfo=dt.UTC)],
            "ChargePeriodStart": [dt.datetime(2024, 1, 5, 2, tzinfo=dt.UTC)],
            "ChargePeriodEnd": [dt.datetime(2024, 1, 5, 3)],
            "BilledCost": pl.Series([Decimal("1.0000000001")], dtype=pl.Decimal(20, 10)),
            "EffectiveCost": ["0.5"],
            "BillingCurrency": ["EUR"],
            "ServiceProviderName": ["Google Cloud"],
        }
    )
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    raw = _parse(buffer.getvalue(), "export.parquet").rows
    out = focus_export.to_focus(raw)
    assert raw["x_source_line"].to_list() == [1]
    assert out["BilledCost"].to_list() == [Decimal("1.0000000001")]
    assert out["ChargePeriodEnd"].to_list() == [dt.datetime(2024, 1, 5, 3, tzinfo=dt.UTC)]
    assert out.select("ProviderName", "x_provider").row(0) == ("Google Cloud", "gcp")


def test_provider_slugs() -> None:
    names = ["AWS", "Microsoft", "Google Cloud", "Oracle", "Amazon Web Services", "Snow Flake Inc."]
    slugs = pl.select(focus_export.provider_slug_expr(pl.lit(pl.Series(names)))).to_series()
    assert slugs.to_list() == ["aws", "azure", "gcp", "oci", "aws", "snow-flake"]


def test_billed_totals_per_currency_is_money() -> None:
    raw = pl.DataFrame(
        {"BillingCurrency": ["USD", "EUR", "USD"], "BilledCost": ["0.1", "2", "0.2"]}
    ).with_columns(pl.col("BilledCost").cast(MONEY))
    totals = focus_export.billed_totals(raw)
    assert totals.schema == pl.Schema({"currency": pl.Utf8(), "amount": MONEY})
    assert totals.rows() == [("EUR", Decimal(2)), ("USD", Decimal("0.3"))]


def test_a_focus_1_4_export_without_provider_and_publisher_keeps_every_column() -> None:
    """FOCUS 1.4 drops ProviderName/PublisherName (1.3 added ServiceProviderName and
    HostProviderName): the provider comes from ServiceProviderName; ContractApplied and
    InvoiceDetailId are model columns, the input's own Allocated* columns stay in the raw row."""
    header = (
        "BillingPeriodStart,BillingPeriodEnd,ChargePeriodStart,ChargePeriodEnd,BilledCost,"
        "EffectiveCost,BillingCurrency,ServiceProviderName,HostProviderName,InvoiceDetailId,"
        "ContractApplied,AllocatedMethodId"
    )
    line = (
        "2026-10-01,2026-11-01,2026-10-05T00:00:00Z,2026-10-06T00:00:00Z,12.5,10,USD,"
        'Microsoft,Microsoft,INV-7:12,"{""Elements"":[{""ContractId"":""C-1""}]}",split-1'
    )
    result = _parse(f"{header}\n{line}\n".encode())
    assert result.quarantine.is_empty()
    raw = result.rows
    assert raw["HostProviderName"].to_list() == ["Microsoft"]
    assert json.loads(raw["x_extra_columns"][0]) == {"AllocatedMethodId": "split-1"}
    rows = focus_export.to_focus(raw)
    assert rows.select("ProviderName", "PublisherName", "x_provider").row(0) == (
        "Microsoft",
        "Microsoft",
        "azure",
    )
    assert rows.select("InvoiceDetailId", "ContractApplied", "ServiceProviderName").row(0) == (
        "INV-7:12",
        '{"Elements":[{"ContractId":"C-1"}]}',
        "Microsoft",
    )
    assert rows["BilledCost"].to_list() == [Decimal("12.5")]
