"""One charge day through normalization: raw tables -> FOCUS rows in the base currency."""

import datetime as dt
from dataclasses import dataclass, field

import polars as pl

from finops_assets.domain import normalize as normalize_domain
from finops_assets.domain import row_conservation
from finops_assets.domain.focus import SOURCE_FOCUS_COLUMNS
from finops_assets.domain.sources import azure_cost, azure_datasets
from finops_assets.domain.sources.aws_cost_explorer_focus import with_billing_account
from finops_assets.sources import BILLING_SOURCES
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake


@dataclass(frozen=True)
class NormalizedDay:
    """The normalized rows of one day, what was quarantined, and the evidence for the checks."""

    rows: pl.DataFrame
    quarantine: pl.DataFrame
    unmapped_services: pl.DataFrame
    source_totals: pl.DataFrame  # x_source, currency, amount: what the raw tables billed
    source_rows: pl.DataFrame  # every source's raw rows of the day as FOCUS, before normalizing
    azure_datasets: str | None = None  # which Azure export datasets the day holds (a note)
    source_counts: pl.DataFrame = field(  # row_conservation.source_counts, per source
        default_factory=lambda: pl.DataFrame(schema=row_conservation.COUNTS_SCHEMA)
    )


def read_source_rows(
    delta: DeltaLake, day: dt.date, aws_payer_account: str | None = None
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, str | None, pl.DataFrame]:
    """Every source's raw rows of `day` mapped to FOCUS, each source's billed totals, the Azure
    actual-export rows an amortized export of the day already counts (azure_datasets), a note
    on which Azure export datasets the day holds, and each source's row counts.

    `aws_payer_account` is the BillingAccountId of Cost Explorer rows (which do not name it).
    """
    focus_frames, totals, elsewhere, notes, counts = [], [], [], [], []
    for source in BILLING_SOURCES:
        raw = delta.read_day(tables.raw_contract(source), day)
        counted, set_aside = raw, 0
        if source.SOURCE == azure_cost.SOURCE:
            counted, superseded = azure_datasets.split_counted_once(raw)
            notes.append(azure_datasets.datasets_note(raw))
            elsewhere.append(source.to_focus(superseded).select(list(SOURCE_FOCUS_COLUMNS)))
            set_aside = elsewhere[-1].height
        focus_frames.append(source.to_focus(counted).select(list(SOURCE_FOCUS_COLUMNS)))
        made = focus_frames[-1].height + set_aside
        counts.append(row_conservation.source_counts(source.SOURCE, raw, made))
        totals.append(
            source.billed_totals(raw).select(
                pl.lit(source.SOURCE).alias("x_source"), "currency", "amount"
            )
        )
    rows = with_billing_account(pl.concat(focus_frames, how="vertical"), aws_payer_account)
    others = pl.concat(elsewhere, how="vertical")
    note = next(filter(None, notes), None)
    return rows, pl.concat(totals, how="vertical"), others, note, pl.concat(counts)


def normalize_day(
    delta: DeltaLake,
    day: dt.date,
    *,
    catalog: pl.DataFrame,
    catalog_version: str,
    base_currency: str,
    tag_aliases: dict[str, str],
    aws_payer_account: str | None = None,
) -> NormalizedDay:
    """Read the day's raw rows, convert with the day's FX rates, map services, quarantine bad rows."""
    rows, totals, elsewhere, note, counts = read_source_rows(delta, day, aws_payer_account)
    day_rates = delta.read_day(tables.FX_RATES, day)
    result = normalize_domain.normalize_costs(
        rows,
        fx_rates=day_rates_to_conversion(day_rates, base_currency),
        catalog=catalog,
        catalog_version=catalog_version,
        base_currency=base_currency,
        tag_aliases=tag_aliases,
    )
    # Rows an amortized export counts are recorded with their amounts, not dropped: the raw
    # totals (both exports) = normalized + quarantined, and the reason names the other export.
    quarantine = pl.concat(
        [result.quarantine, azure_datasets.counted_elsewhere_quarantine(elsewhere)]
    ).with_columns(pl.lit("normalized_costs").alias("x_source"))
    source_rows = pl.concat([rows, elsewhere], how="vertical")
    return NormalizedDay(
        result.rows, quarantine, result.unmapped_services, totals, source_rows, note, counts
    )


def day_rates_to_conversion(day_rates: pl.DataFrame, base_currency: str) -> pl.DataFrame:
    """The fx_rates partition of a day -> rates into the base currency (cross rates via EUR)."""
    from finops_assets.domain import fx

    return fx.conversion_rates(day_rates, base_currency)


def rows_without_billing_account(rows: pl.DataFrame) -> int:
    """How many normalized rows have no BillingAccountId (FOCUS: MUST NOT be null)."""
    return rows.height and int(rows["BillingAccountId"].null_count())
