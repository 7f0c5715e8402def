"""Azure Cost Management export files (CSV): actual/amortized cost and the older usage exports.

Exports carry the same fields as Query API pages under their own names (CostInBillingCurrency
or PreTaxCost, BillingCurrencyCode, Date, SubscriptionId, ResourceGroup, MeterCategory, Tags,
...), so a file is read as text (never a float), normalized where the two differ (US dates,
tags without braces) and handed to the azure_cost page parser as one page: one raw contract for
both. Lines are the file's own (header = line 1).
"""

import datetime as dt
import io
import json

import polars as pl

from finops_assets.domain.sources import azure_cost
from finops_assets.domain.sources.azure_datasets import dataset_of_export
from finops_assets.domain.sources.common import (
    ParseResult,
    SourceFormatError,
    refuse_duplicate_columns,
)

# A file is an Azure export when it has a cost, a date and one Azure-only column.
_COST = {"costinbillingcurrency", "pretaxcost", "cost", "costinusd"}
_DATE = {"date", "usagedatetime", "usagedate"}
_AZURE_ONLY = {"subscriptionid", "subscriptionguid", "metercategory", "resourcegroup", "meterid"}
_US_DATE = r"^\d{2}/\d{2}/\d{4}$"


def is_azure_export(columns: list[str]) -> bool:
    """Whether a CSV header is an Azure cost export's."""
    names = {c.strip().lower() for c in columns}
    return bool(names & _COST and names & _DATE and names & _AZURE_ONLY)


def _normalized(text: pl.DataFrame) -> pl.DataFrame:
    """US dates (MM/DD/YYYY) to ISO; `"k": "v"` tag lists wrapped into a JSON object."""
    exprs = []
    for name in text.columns:
        lower = name.strip().lower()
        column = pl.col(name).str.strip_chars()
        if lower in _DATE:
            us = column.str.contains(_US_DATE).fill_null(False)
            iso = column.str.to_date("%m/%d/%Y", strict=False).dt.to_string("%Y-%m-%d")
            exprs.append(pl.when(us).then(iso).otherwise(column).alias(name))
        elif lower == "tags":
            bare = (column.str.len_chars() > 0) & ~column.str.starts_with("{")
            bare = bare & ~column.str.starts_with("[")
            wrapped = pl.concat_str(pl.lit("{"), column, pl.lit("}"))
            exprs.append(pl.when(bare).then(wrapped).otherwise(column).alias(name))
    return text.with_columns(exprs)


def parse(
    data: bytes, *, source_file: str, ingestion_key: str, fetched_at: dt.datetime
) -> ParseResult:
    """One export CSV -> azure_cost raw rows and quarantined rows."""
    try:
        text = pl.read_csv(
            io.BytesIO(data), infer_schema=False, raise_if_empty=False, encoding="utf8-lossy"
        )
    except pl.exceptions.PolarsError as exc:
        raise SourceFormatError(f"{source_file}: unreadable CSV: {exc}") from exc
    refuse_duplicate_columns(text.columns, source_file)
    text = text.rename({c: c.lstrip("\ufeff").strip() for c in text.columns})
    if not is_azure_export(text.columns):
        raise SourceFormatError(
            f"{source_file}: not an Azure cost export (needs a cost, a date and Azure columns "
            f"such as SubscriptionId; found {text.columns[:8]})"
        )
    text = _normalized(text)
    page = {
        "properties": {
            "columns": [{"name": c, "type": "String"} for c in text.columns],
            "rows": [list(row) for row in text.iter_rows()],
        }
    }
    result = azure_cost.parse(
        json.dumps(page).encode(),
        source_file=source_file,
        ingestion_key=ingestion_key,
        fetched_at=fetched_at,
    )
    next_line = pl.col("x_source_line") + 1  # the header is line 1
    dataset = pl.lit(dataset_of_export(source_file, result.rows), pl.Utf8).alias("export_dataset")
    return ParseResult(
        rows=result.rows.with_columns(next_line, dataset),
        quarantine=result.quarantine.with_columns(next_line),
    )
