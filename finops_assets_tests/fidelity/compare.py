"""Column-by-column comparison of our FOCUS rows with a provider's own conversion of them."""

import datetime as dt
import json
from decimal import Decimal

import polars as pl

from finops_assets.domain.money import MONEY_SCALE

_SCALE = Decimal(1).scaleb(-MONEY_SCALE)


def normalized(value: object) -> object:
    """A cell in comparable form: decimals at our money scale (10 places), UTC datetimes, Tags as a dict, '' as null."""
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):  # at our money scale: the CUR writes up to 19 decimals
        return value.quantize(_SCALE).normalize()
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC)
    return value


def tags_value(text: str | None) -> dict | None:
    """Our Tags JSON text as a dict (null when absent or empty)."""
    parsed = json.loads(text) if text else None
    return parsed or None


def differing_columns(
    ours: list[dict[str, object]], theirs: list[dict[str, object]], columns: list[str]
) -> dict[str, list[tuple[object, object]]]:
    """Per column that differs on at least one row: the (ours, theirs) pairs that differ."""
    assert len(ours) == len(theirs)
    out: dict[str, list[tuple[object, object]]] = {}
    for column in columns:
        pairs = [
            (normalized(a[column]), normalized(b[column]))
            for a, b in zip(ours, theirs, strict=True)
        ]
        diffs = [p for p in pairs if p[0] != p[1]]
        if diffs:
            out[column] = diffs
    return out


def rows_of(frame: pl.DataFrame) -> list[dict[str, object]]:
    """Frame rows as dicts with Tags parsed."""
    rows = frame.to_dicts()
    for row in rows:
        if "Tags" in row:
            row["Tags"] = tags_value(row["Tags"])
    return rows


def normalized_rows(source_rows: pl.DataFrame) -> pl.DataFrame:
    """A source's FOCUS rows through our normalization (units, catalog, FOCUS nullability).

    Base currency USD at rate 1 for every billing currency: FX does not touch FOCUS columns.
    """
    from finops_assets.domain.catalog import load_shipped_catalog
    from finops_assets.domain.normalize import normalize_costs

    catalog, version = load_shipped_catalog()
    currencies = source_rows["BillingCurrency"].unique().to_list()
    rates = pl.DataFrame(
        {
            "currency": currencies,
            "x_fx_rate": [Decimal(1)] * len(currencies),
            "x_fx_rate_date": [dt.date(2024, 1, 1)] * len(currencies),
        }
    )
    result = normalize_costs(
        source_rows,
        fx_rates=rates,
        catalog=catalog,
        catalog_version=version,
        base_currency="USD",
        tag_aliases={},
    )
    assert result.quarantine.is_empty(), result.quarantine
    return result.rows
