"""FOCUS rows of a public file normalized day by day into USD, with the shipped ECB rates,
catalog and tag aliases (no Dagster, no lake): for tests that need real normalized rows."""

import polars as pl

from finops_assets.domain import catalog, fx
from finops_assets.domain.normalize import normalize_costs
from finops_assets.domain.reference import load_tag_aliases


def normalized_in_usd(focus_rows: pl.DataFrame) -> list[pl.DataFrame]:
    """Each charge day of `focus_rows` normalized into USD, days in order; none quarantined."""
    history = fx.load_shipped_ecb_rates()
    table, version = catalog.load_shipped_catalog()
    frames = []
    days = sorted(focus_rows.partition_by("x_charge_date", as_dict=True).items())
    for (day,), day_rows in days:
        rates = fx.conversion_rates(fx.rates_for_day(history, day, {"USD"}), "USD")
        result = normalize_costs(
            day_rows,
            fx_rates=rates,
            catalog=table,
            catalog_version=version,
            base_currency="USD",
            tag_aliases=load_tag_aliases(),
        )
        assert result.quarantine.is_empty()
        frames.append(result.rows)
    return frames
