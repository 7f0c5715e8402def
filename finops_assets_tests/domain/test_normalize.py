"""normalize_costs: quarantine of each bad-input kind, output schema, FX, conservation, gross/net."""

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import polars as pl
import pytest

from finops_assets.domain import fx
from finops_assets.domain.catalog import load_shipped_catalog
from finops_assets.domain.focus import NORMALIZED_COLUMNS, SOURCE_FOCUS_COLUMNS
from finops_assets.domain.normalize import (
    base_currency_drift,
    conservation_report,
    gross_net_summary,
    normalize_costs,
)
from finops_assets.domain.reference import load_tag_aliases
from finops_assets.domain.sources.common import QUARANTINE_COLUMNS

DAY = dt.date(2024, 1, 6)  # a Saturday: Friday's rates
START = dt.datetime(2024, 1, 6, tzinfo=dt.UTC)
END = START + dt.timedelta(hours=1)


def row(key: str, **overrides: object) -> dict[str, object]:
    base: dict[str, object] = {name: None for name in SOURCE_FOCUS_COLUMNS}
    base.update(
        BilledCost="10.00",
        EffectiveCost="9.50",
        ListCost="12.00",
        BillingCurrency="USD",
        ChargeCategory="Usage",
        ChargePeriodStart=START,
        ChargePeriodEnd=END,
        ConsumedQuantity="1",
        ServiceName="Amazon EC2",
        Tags='{"user:CostCenter": " 42 "}',
        x_charge_date=DAY,
        x_provider="aws",
        x_source="aws_cur",
        x_ingestion_key="ik-1",
        x_source_row_key=key,
        x_service_code="AmazonEC2",
    )
    base.update(overrides)
    return base


def frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    text = {
        k: (pl.Utf8() if str(t).startswith("Decimal") else t)
        for k, t in SOURCE_FOCUS_COLUMNS.items()
    }
    raw = pl.DataFrame(rows, schema=text)  # type: ignore[arg-type]
    return raw.cast(SOURCE_FOCUS_COLUMNS)  # type: ignore[arg-type]


GOOD = [
    row("r01"),
    row("r02", BilledCost="1000", EffectiveCost="1000", ListCost=None, BillingCurrency="JPY"),
    row("r03", BilledCost="-2.6137", EffectiveCost="-3", ChargeCategory="Credit"),
    row("r04", BilledCost="0.80", ChargeCategory="Tax", x_service_code="Tax"),
    row("r05", BilledCost="100", ChargeCategory="Purchase", x_service_code="ComputeSavingsPlans"),
    row("r06", BilledCost="-1.10", ChargeCategory="Adjustment", ChargeClass="Correction"),
    row("r07", BilledCost="5", BillingCurrency="EUR", x_provider="gcp", x_service_code="BigQuery"),
    row("r08", ConsumedQuantity="-1", BilledCost="-3", ChargeCategory="Credit"),
    row("r09", x_service_code="AmazonMadeUpService", ServiceName="Made Up"),
]
BAD = {
    "b01": (row("b01", BillingCurrency="XYZ"), "unknown currency code 'XYZ' in BillingCurrency"),
    "b02": (row("b02", BillingCurrency="ARS"), "no FX rate from 'ARS' to base 'USD'"),
    "b03": (row("b03", ChargePeriodEnd=START - dt.timedelta(hours=1)), "ChargePeriodEnd before"),
    "b04": (row("b04", ConsumedQuantity="-2"), "negative quantity with positive cost"),
    "b05": (row("b05", ChargeCategory="Foo"), "ChargeCategory 'Foo' is not a FOCUS value"),
    "b06": (row("b06", Tags="not json"), "Tags is not a JSON object"),
    "b07": (row("b07", BilledCost=None), "BilledCost is missing"),
    "b08": (row("b08", BilledCost="9999999999999999"), "too large"),
    "b09": (row("b09", BillingCurrency=None), "unknown currency code '<null>'"),
}


@pytest.fixture(scope="module")
def result():
    rates = fx.rates_for_day(fx.load_shipped_ecb_rates(), DAY, ["USD", "JPY"])
    catalog, version = load_shipped_catalog()
    rows = frame(GOOD + [r for r, _ in BAD.values()])
    shuffled = rows.sample(fraction=1.0, shuffle=True, seed=7)
    kwargs = dict(
        fx_rates=fx.conversion_rates(rates, "USD"),
        catalog=catalog,
        catalog_version=version,
        base_currency="USD",
        tag_aliases=load_tag_aliases(),
    )
    first = normalize_costs(rows, **kwargs)
    again = normalize_costs(shuffled, **kwargs)
    return first, again, rates


def test_output_schema_is_normalized_columns(result):
    first, _, _ = result
    assert first.rows.schema == pl.Schema(NORMALIZED_COLUMNS)
    assert first.quarantine.schema == pl.Schema(QUARANTINE_COLUMNS)


def test_each_bad_kind_is_quarantined_and_good_rows_kept(result):
    first, _, _ = result
    assert first.rows["x_source_row_key"].to_list() == [r["x_source_row_key"] for r in GOOD]
    reasons = dict(
        zip(first.quarantine["x_source_file"], first.quarantine["x_reason"], strict=True)
    )
    assert sorted(reasons) == sorted(BAD)
    for key, (_, expected) in BAD.items():
        assert expected in reasons[key], (key, reasons[key])
    quarantined = first.quarantine.filter(pl.col("x_source_file") == "b01").row(0, named=True)
    assert quarantined["x_source"] == "aws_cur"
    assert quarantined["x_column"] == "BillingCurrency"
    assert quarantined["x_currency"] == "XYZ"
    assert quarantined["x_amount"] == "10.0000000000"
    assert '"x_source_row_key":"b01"' in quarantined["x_raw_record"]


def test_rerun_on_shuffled_input_is_identical(result):
    first, again, _ = result
    assert first.rows.equals(again.rows)
    assert first.quarantine.equals(again.quarantine)
    assert first.unmapped_services.equals(again.unmapped_services)


def test_base_amounts_fx_rate_and_tags(result):
    first, _, rates = result
    by_key = {r["x_source_row_key"]: r for r in first.rows.iter_rows(named=True)}
    usd = by_key["r01"]
    assert usd["x_billed_cost_base"] == Decimal("10.00")
    assert usd["x_fx_rate"] == Decimal(1)
    assert usd["x_tags"] == '{"cost_center":"42"}'
    assert usd["x_fx_rate_date"] == dt.date(2024, 1, 5)
    assert usd["ServiceCategory"] == "Compute"
    per_eur = {r["currency"]: r["units_per_eur"] for r in rates.iter_rows(named=True)}
    jpy_rate = fx.cross_rate(per_eur["USD"], per_eur["JPY"])
    jpy = by_key["r02"]
    assert jpy["x_fx_rate"] == jpy_rate
    expected = (Decimal(1000) * jpy_rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert jpy["x_billed_cost_base"] == expected
    assert jpy["x_list_cost_base"] is None
    assert by_key["r07"]["x_billed_cost_base"] == (Decimal(5) * per_eur["USD"]).quantize(
        Decimal("0.01")
    )
    assert by_key["r07"]["ServiceName"] == "BigQuery"


def test_unmapped_service_kept_as_other_and_listed(result):
    first, _, _ = result
    made_up = first.rows.filter(pl.col("x_source_row_key") == "r09").row(0, named=True)
    assert made_up["ServiceCategory"] == "Other"
    assert made_up["ServiceName"] == "Made Up"
    unmapped = first.unmapped_services.to_dicts()
    assert unmapped == [
        {
            "provider": "aws",
            "service_code": "AmazonMadeUpService",
            "currency": "USD",
            "rows": 1,
            "cost": Decimal("10"),
        }
    ]


def test_conservation_is_exact(result):
    first, _, _ = result
    source = (
        frame(GOOD + [r for r, _ in BAD.values()])
        .group_by(pl.col("BillingCurrency").alias("currency"))
        .agg(pl.col("BilledCost").sum().alias("amount"))
    )
    report = conservation_report(source, first.rows, first.quarantine)
    assert report["difference"].to_list() == [Decimal(0)] * report.height
    usd = report.filter(pl.col("currency") == "USD").row(0, named=True)
    assert usd["quarantined_amount"] > 0
    # a row dropped silently shows up as a difference
    dropped = conservation_report(source, first.rows.slice(1), first.quarantine)
    assert dropped.filter(pl.col("currency") == "USD")["difference"].item() == Decimal("10")


def test_gross_plus_credits_adjustments_tax_equals_billed(result):
    first, _, _ = result
    for amount, currency in (
        ("BilledCost", "BillingCurrency"),
        ("x_billed_cost_base", "x_base_currency"),
    ):
        summary = gross_net_summary(first.rows, amount, currency)
        assert summary.height >= 1
        for r in summary.iter_rows(named=True):
            total = (
                r["usage_gross"] + r["purchase_gross"] + r["credits"] + r["adjustments"] + r["tax"]
            )
            assert total == r["billed"]
    usd = gross_net_summary(first.rows).filter(pl.col("currency") == "USD").row(0, named=True)
    assert usd["credits"] == Decimal("-5.6137")
    assert usd["tax"] == Decimal("0.8")
    assert usd["adjustments"] == Decimal("-1.1")


def test_base_currency_drift_rows_reconvert_exactly(result):
    first, _, _ = result
    drift = base_currency_drift(first.rows)
    assert drift["mismatched_rows"].to_list() == [0] * drift.height
    assert drift["within_bound"].all()
    tampered = first.rows.with_columns(
        x_billed_cost_base=pl.col("x_billed_cost_base")
        + pl.lit(Decimal("0.01")).cast(pl.Decimal(38, 10))
    )
    assert base_currency_drift(tampered)["mismatched_rows"].sum() == len(GOOD)


def test_unknown_base_currency_raises():
    catalog, version = load_shipped_catalog()
    with pytest.raises(fx.UnknownCurrencyError):
        normalize_costs(
            frame([row("x")]),
            fx_rates=pl.DataFrame(schema=fx.CONVERSION_SCHEMA),
            catalog=catalog,
            catalog_version=version,
            base_currency="ABC",
            tag_aliases={},
        )
