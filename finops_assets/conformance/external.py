"""Normalize a FOCUS file from outside the pipeline (e.g. the FOCUS 1.0 sample) day by day."""

import datetime as dt
from pathlib import Path

import polars as pl

from finops_assets.domain import catalog, fx
from finops_assets.domain.normalize import normalize_costs
from finops_assets.domain.reference import load_tag_aliases
from finops_assets.domain.sources import focus_export

_FETCHED_AT = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # fixed: the result does not use it


def normalize_focus_file(path: Path, base_currency: str = "USD") -> tuple[pl.DataFrame, int]:
    """A FOCUS 1.0-1.2 file through parse, to_focus and normalize_costs with each day's ECB rates.

    Returns the normalized rows and how many rows were quarantined (at parse or normalize).
    """
    parsed = focus_export.parse(
        path.read_bytes(), source_file=path.name, ingestion_key=path.name, fetched_at=_FETCHED_AT
    )
    rows = focus_export.to_focus(parsed.rows)
    history = fx.load_shipped_ecb_rates()
    table, version = catalog.load_shipped_catalog()
    aliases = load_tag_aliases()
    frames, quarantined = [], parsed.quarantine.height
    for (day,), day_rows in sorted(rows.partition_by("x_charge_date", as_dict=True).items()):
        currencies = set(day_rows["BillingCurrency"].drop_nulls().to_list()) | {base_currency}
        day_rates = fx.rates_for_day(history, day, currencies)
        result = normalize_costs(
            day_rows,
            fx_rates=fx.conversion_rates(day_rates, base_currency),
            catalog=table,
            catalog_version=version,
            base_currency=base_currency,
            tag_aliases=aliases,
        )
        frames.append(result.rows)
        quarantined += result.quarantine.height
    return pl.concat(frames), quarantined
