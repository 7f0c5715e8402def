"""Checks on normalized_costs: the FOCUS contract and exact conservation of billed money."""

import pandera.polars as pa
import polars as pl

from finops_assets.domain.focus import CHARGE_CATEGORIES
from finops_assets.storage import tables
from finops_assets.storage.validation import ValidationOutcome, contract_schema, validate_frame

_REQUIRED = (
    "BilledCost",
    "EffectiveCost",
    "BillingCurrency",
    "ChargeCategory",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ProviderName",
    "ServiceCategory",
    "x_provider",
    "x_source",
    "x_source_row_key",
    "x_billed_cost_base",
    "x_effective_cost_base",
    "x_fx_rate",
)

NORMALIZED_SCHEMA = contract_schema(
    tables.NORMALIZED_COSTS,
    checks={
        "ChargeCategory": [pa.Check.isin(list(CHARGE_CATEGORIES))],
        "ChargeClass": [pa.Check.isin(["Correction"])],
        "BillingCurrency": [pa.Check.str_matches(r"^[A-Z]{3}$")],
        "x_source_row_key": [
            pa.Check(
                lambda data: data.lazyframe.select(pl.col(data.key).is_unique().all()),
                name="unique",
            )
        ],
    },
    required=_REQUIRED,
)


def normalized_contract_result(rows: pl.DataFrame) -> ValidationOutcome:
    """check_normalized_contract: FOCUS columns, types, allowed values, unique row keys."""
    return validate_frame(NORMALIZED_SCHEMA, rows)


def conservation_result(
    source_totals: pl.DataFrame, rows: pl.DataFrame, quarantine: pl.DataFrame
) -> ValidationOutcome:
    """check_billed_cost_conserved: per currency, raw billed == normalized + quarantined, exactly."""
    from finops_assets.domain.normalize import conservation_report

    report = conservation_report(
        source_totals.group_by("currency").agg(pl.col("amount").sum()), rows, quarantine
    )
    broken = report.filter(pl.col("difference") != 0)
    return ValidationOutcome(
        broken.is_empty(),
        broken.height,
        [{k: str(v) for k, v in r.items()} for r in report.to_dicts()],
    )


FX_RATES_SCHEMA = contract_schema(
    tables.FX_RATES,
    checks={
        "units_per_eur": [pa.Check.gt(0)],
        "currency": [pa.Check.str_matches(r"^[A-Z]{3}$")],
        "x_fx_rate_date": [
            pa.Check(
                lambda data: data.lazyframe.select(pl.col(data.key) <= pl.col("x_charge_date")),
                name="published_on_or_before_the_day",
            )
        ],
    },
    required=("currency", "units_per_eur", "x_fx_rate_date"),
)


def gross_net_result(rows: pl.DataFrame) -> tuple[ValidationOutcome, pl.DataFrame]:
    """check_gross_net_reconciles: per currency, usage + purchase + credits + adjustments + tax
    == billed exactly, and every row is in one of the five FOCUS charge categories."""
    from finops_assets.domain.normalize import gross_net_summary

    summary = gross_net_summary(rows)
    parts = ["usage_gross", "purchase_gross", "credits", "adjustments", "tax"]
    broken = summary.filter(pl.sum_horizontal(parts) != pl.col("billed"))
    outside = rows.filter(~pl.col("ChargeCategory").is_in(list(CHARGE_CATEGORIES)).fill_null(True))
    failures = [{k: str(v) for k, v in r.items()} for r in broken.to_dicts()]
    if outside.height:
        failures.append({"rows_outside_the_five_categories": str(outside.height)})
    return ValidationOutcome(not failures, len(failures), failures), summary


def missing_rate_failures(quarantine: pl.DataFrame, day) -> list[dict]:
    """check_fx_rates_available: billing currencies of `day` with no usable rate, by name."""
    missing = quarantine.filter(pl.col("x_reason").str.starts_with("no FX rate"))
    if missing.is_empty():
        return []
    per_currency = missing.group_by("x_currency", "x_reason").agg(pl.len().alias("rows"))
    return [
        {"day": str(day), "currency": r["x_currency"], "rows": r["rows"], "reason": r["x_reason"]}
        for r in per_currency.sort("x_currency").to_dicts()
    ]
