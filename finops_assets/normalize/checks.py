"""Checks on normalized_costs: the FOCUS contract and exact conservation of billed money."""

import datetime as dt

import pandera.polars as pa
import polars as pl

from finops_assets.check_failures import CheckOutcome
from finops_assets.domain.conservation import base_twin_mismatches, money_conservation
from finops_assets.domain.focus import CHARGE_CATEGORIES
from finops_assets.domain.focus_later_checks import (
    LATER_COLUMN_CHECKS,
    LATER_FRAME_CHECKS,
    LATER_REQUIRED,
)
from finops_assets.domain.money import MONEY
from finops_assets.domain.quarantine import (
    MONEY_COLUMNS,
    QuarantineLimits,
    limit_failures,
    quarantined_money,
)
from finops_assets.domain.row_conservation import row_failures
from finops_assets.domain.sources.azure_datasets import COUNTED_IN_AMORTIZED
from finops_assets.metadata import markdown_table
from finops_assets.storage import tables
from finops_assets.storage.validation import ValidationOutcome, contract_schema, validate_frame

# normalized_costs' checks (name -> description); all block the day but check_services_mapped.
NORMALIZED_CHECKS = {
    "check_normalized_contract": "FOCUS columns and types, allowed charge categories and "
    "classes, ISO currency codes and unique row keys.",
    "check_billed_cost_conserved": "Per currency, the raw tables' billed total equals "
    "normalized plus quarantined billed cost, exactly.",
    "check_services_mapped": "Every provider service maps to a FOCUS service name and "
    "category (a warning: unmapped rows are kept).",
    "check_money_conserved": "Per day, currency and charge category, every money column (billed, "
    "effective, list, contracted) of the raw rows equals normalized plus quarantined, exactly.",
    "check_rows_conserved": "Per day and source, the raw rows equal normalized plus quarantined "
    "rows, counted, so a lost zero-cost row fails the day. 1:1 for AWS CUR 1.0/2.0, Cost "
    "Explorer, FOCUS exports and Azure (an actual-export row the amortized export counts is "
    "quarantined, not dropped); not 1:1 for GCP: each export row also gives one Credit row per "
    "credit, so its rows in = raw rows + credits.",
    "check_quarantined_money": "Money sent to quarantine at this stage stays within the limits "
    "(share and absolute, on every money column).",
    "check_fx_rates_available": "Every billing currency of the day has an FX rate into the "
    "base currency; rows without one are quarantined and fail the day.",
}

_REQUIRED = (
    "BilledCost",
    "EffectiveCost",
    "BillingCurrency",
    "ChargeCategory",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ProviderName",
    *LATER_REQUIRED,
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
        **LATER_COLUMN_CHECKS,
        "x_source_row_key": [
            pa.Check(
                lambda data: data.lazyframe.select(pl.col(data.key).is_unique().all()),
                name="unique",
            )
        ],
    },
    required=_REQUIRED,
    frame_checks=LATER_FRAME_CHECKS,
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


def money_conserved_result(
    day: dt.date,
    source_rows: pl.DataFrame,
    rows: pl.DataFrame,
    quarantine: pl.DataFrame,
    twins: pl.DataFrame | None = None,
) -> tuple[ValidationOutcome, pl.DataFrame]:
    """check_money_conserved: per currency, ChargeCategory and money column (Billed, Effective,
    List, Contracted), the sources' FOCUS rows == normalized + quarantined, exactly; and each
    base-currency twin (x_*_base) equals its amount converted at the row's rate.

    `source_rows` and `rows` may be sums per currency and ChargeCategory (a streamed day);
    `twins`, when given, are the day's base_twin_mismatches, computed from its rows."""
    report = money_conservation(source_rows, rows, quarantine)
    broken = report.filter(pl.col("difference") != 0)
    twins = base_twin_mismatches(rows) if twins is None else twins
    failures = [
        {"day": day.isoformat(), **{k: str(v) for k, v in r.items()}}
        for r in [*broken.to_dicts(), *twins.to_dicts()]
    ]
    return ValidationOutcome(not failures, len(failures), failures), report


def rows_conserved_result(day: dt.date, report: pl.DataFrame) -> CheckOutcome:
    """check_rows_conserved: per source, rows in (raw rows; GCP: + credits) == normalized +
    quarantined rows, and to_focus made every row it should (domain.row_conservation).

    `report` is row_conservation.row_conservation of the day (streamed: chunk counts summed)."""
    failures = row_failures(day, report)
    outcome = ValidationOutcome(not failures, len(failures), failures)
    return CheckOutcome(outcome, {"rows": markdown_table(report)})


def normalized_quarantine_result(
    day: dt.date,
    rows: pl.DataFrame,
    quarantine: pl.DataFrame,
    limits: QuarantineLimits,
) -> ValidationOutcome:
    """check_quarantined_money (normalize stage): per currency and money column, what
    normalization put aside stays within the FINOPS_QUARANTINE_* limits. Azure actual rows an
    amortized export counts are not bad data: recorded in the quarantine, outside the limits."""
    files = quarantine.filter(pl.col("x_reason") != COUNTED_IN_AMORTIZED).with_columns(
        pl.col("x_source_file")
        .str.extract(r"^[^|]*\|(.*)\|[^|]*$", 1)
        .fill_null(pl.col("x_source_file"))
    )
    quarantined = quarantined_money(files, {c: c for c in MONEY_COLUMNS})
    kept = (
        rows.group_by(pl.col("BillingCurrency").alias("currency"))
        .agg(pl.col(c).sum().cast(MONEY) for c in MONEY_COLUMNS)
        .unpivot(index="currency", variable_name="money_column", value_name="amount")
    )
    failures = limit_failures(day, kept, quarantined, limits)
    return ValidationOutcome(not failures, len(failures), failures)


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
