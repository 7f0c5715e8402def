"""AWS Cost Explorer: one GetCostAndUsage response page -> raw rows -> FOCUS rows.

One raw row per (time period, group); a page with no groups gives one row per time period from
its Total. Amounts stay the strings AWS sent until they are cast to MONEY (never a float).

FOCUS mapping (documented approximations, Cost Explorer has no line items):
- BilledCost = UnblendedCost; EffectiveCost = AmortizedCost (UnblendedCost when not requested);
  ListCost = ContractedCost = UnblendedCost (no list price in Cost Explorer).
- ChargeCategory from the RECORD_TYPE group key when grouped by it, else "Tax" for the SERVICE
  "Tax" and "Usage" otherwise. Record types: fees and support -> Purchase, Tax -> Tax,
  Credit and discount programs -> Credit, Refund -> Adjustment (ChargeClass "Correction").
- A TAG group key "Environment$Dev" becomes Tags {"Environment": "Dev"}; "Environment$" means
  untagged and gives {}.
"""

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import polars as pl

from finops_assets.domain.money import MONEY, parse_money_expr
from finops_assets.domain.sources.aws_cost_explorer_focus import (
    PROVIDER,
    SOURCE,
    billed_totals,
    row_amounts,
    to_focus,
)
from finops_assets.domain.sources.common import (
    INGEST_METADATA_COLUMNS,
    QUARANTINE_COLUMNS,
    ParseResult,
    SourceFormatError,
)

__all__ = [
    "METRICS",
    "PROVIDER",
    "RAW_COLUMNS",
    "RECORDED_IDENTITY_FILE",
    "SOURCE",
    "billed_totals",
    "parse",
    "row_amounts",
    "to_focus",
]

# The recorded STS GetCallerIdentity response of the payer, beside the pages in the landing
# folder (the local twin of calling STS; resources/aws_payer.py reads it).
RECORDED_IDENTITY_FILE = "sts-caller-identity.json"

METRICS = {
    "UnblendedCost": "unblended_cost",
    "AmortizedCost": "amortized_cost",
    "NetUnblendedCost": "net_unblended_cost",
    "UsageQuantity": "usage_quantity",
}

RAW_COLUMNS: dict[str, pl.DataType] = {
    "time_period_start": pl.Date(),
    "time_period_end": pl.Date(),
    "group_definition_1": pl.Utf8(),  # "TYPE:KEY", e.g. "DIMENSION:LINKED_ACCOUNT"
    "group_key_1": pl.Utf8(),
    "group_definition_2": pl.Utf8(),
    "group_key_2": pl.Utf8(),
    "linked_account_name": pl.Utf8(),  # from DimensionValueAttributes when grouped by account
    **{
        name: dtype
        for prefix in METRICS.values()
        for name, dtype in ((f"{prefix}_amount", MONEY), (f"{prefix}_unit", pl.Utf8()))
    },
    "estimated": pl.Boolean(),
    **INGEST_METADATA_COLUMNS,
}

_TEXT_COLUMNS = ["time_period_start", "time_period_end", "estimated", "group_definition_1"]
_TEXT_COLUMNS += ["group_key_1", "group_definition_2", "group_key_2", "linked_account_name"]
_TEXT_COLUMNS += [f"{p}_{s}" for p in METRICS.values() for s in ("amount", "unit")]


def _load_page(data: bytes, source_file: str) -> dict[str, Any]:
    try:
        page = json.loads(data, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SourceFormatError(f"{source_file}: not a JSON document ({exc})") from exc
    if not isinstance(page, dict) or not isinstance(page.get("ResultsByTime"), list):
        raise SourceFormatError(
            f"{source_file}: no 'ResultsByTime' list: not a GetCostAndUsage page"
        )
    return page


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _metric_texts(metrics: dict[str, Any]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name, prefix in METRICS.items():
        metric = metrics.get(name) or {}
        out[f"{prefix}_amount"] = _text(metric.get("Amount"))
        out[f"{prefix}_unit"] = _text(metric.get("Unit"))
    return out


def _page_records(page: dict[str, Any]) -> list[dict[str, str | None]]:
    """Flatten the page's nested JSON into one text record per (time period, group)."""
    definitions = [f"{d.get('Type')}:{d.get('Key')}" for d in page.get("GroupDefinitions") or []]
    names = {
        str(a.get("Value")): _text((a.get("Attributes") or {}).get("description"))
        for a in page.get("DimensionValueAttributes") or []
    }
    account_pos = (
        definitions.index("DIMENSION:LINKED_ACCOUNT")
        if ("DIMENSION:LINKED_ACCOUNT" in definitions)
        else None
    )
    records: list[dict[str, str | None]] = []
    for result in page["ResultsByTime"]:
        period = result.get("TimePeriod") or {}
        base = {
            "time_period_start": _text(period.get("Start")),
            "time_period_end": _text(period.get("End")),
            "estimated": _text(result.get("Estimated")),
        }
        groups = result.get("Groups") or []
        if not groups and result.get("Total"):
            groups = [{"Keys": [], "Metrics": result["Total"]}]
        for group in groups:
            keys = [str(k) for k in group.get("Keys") or []]
            record = dict(base)
            for i in (0, 1):
                record[f"group_definition_{i + 1}"] = (
                    definitions[i] if i < len(definitions) else None
                )
                record[f"group_key_{i + 1}"] = keys[i] if i < len(keys) else None
            record["linked_account_name"] = (
                names.get(keys[account_pos]) if account_pos is not None and keys else None
            )
            record.update(_metric_texts(group.get("Metrics") or {}))
            records.append(record)
    return records


Check = tuple[str, pl.Expr, str, str]


def _checks() -> list[Check]:
    """(column, bad-row condition, reason, text column seen) in the order they are reported."""
    start, end = "_t_time_period_start", "_t_time_period_end"
    checks: list[Check] = [
        ("TimePeriod.Start", pl.col(start).is_null(), "missing TimePeriod.Start", start),
        ("TimePeriod.Start", pl.col("time_period_start").is_null(), "invalid date", start),
        ("TimePeriod.End", pl.col("time_period_end").is_null(), "invalid date", end),
    ]
    amount = "_t_unblended_cost_amount"
    checks.append(("Metrics.UnblendedCost.Amount", pl.col(amount).is_null(), "missing", amount))
    for name, prefix in METRICS.items():
        seen = f"_t_{prefix}_amount"
        bad = pl.col(seen).is_not_null() & pl.col(f"{prefix}_amount").is_null()
        checks.append((f"Metrics.{name}.Amount", bad, f"unparseable {name} amount", seen))
    return checks


def _typed(text: pl.DataFrame) -> pl.DataFrame:
    """Cast the text columns to RAW types, keeping the texts as _t_* for the checks."""
    dates = {
        c: pl.col(c).str.strptime(pl.Date, "%Y-%m-%d", strict=False)
        for c in ("time_period_start", "time_period_end")
    }
    money = {f"{p}_amount": parse_money_expr(f"{p}_amount") for p in METRICS.values()}
    estimated = pl.col("estimated").str.to_lowercase() == "true"
    return text.with_columns(
        [pl.col(c).alias(f"_t_{c}") for c in _TEXT_COLUMNS],
    ).with_columns(**dates, **money, estimated=estimated.fill_null(False))


def _first_failure(checks: list[Check]) -> tuple[pl.Expr, pl.Expr]:
    """(column, reason) of the first failing check of each row; nulls when the row is good."""
    column = pl.lit(None, pl.Utf8)
    reason = pl.lit(None, pl.Utf8)
    for name, bad, why, seen in reversed(checks):
        value = pl.concat_str(pl.lit(f"{why}: "), pl.col(seen).fill_null("<null>").str.head(80))
        column = pl.when(bad).then(pl.lit(name)).otherwise(column)
        reason = pl.when(bad).then(value).otherwise(reason)
    return column, reason


def parse(
    data: bytes, *, source_file: str, ingestion_key: str, fetched_at: dt.datetime
) -> ParseResult:
    """One GetCostAndUsage page -> raw rows per (time period, group) and quarantined rows."""
    page = _load_page(data, source_file)
    schema = {c: pl.Utf8 for c in _TEXT_COLUMNS}
    text = pl.DataFrame(_page_records(page), schema=schema, orient="row")
    text = text.with_row_index("x_source_line", offset=1).with_columns(
        pl.col("x_source_line").cast(pl.Int64)
    )
    column, reason = _first_failure(_checks())
    typed = _typed(text).with_columns(_column=column, _reason=reason)
    meta = {
        "x_ingestion_key": pl.lit(ingestion_key),
        "x_source_file": pl.lit(source_file),
        "x_fetched_at": pl.lit(fetched_at).cast(pl.Datetime("us", "UTC")),
        "x_charge_date": pl.col("time_period_start"),
    }
    typed = typed.with_columns(**meta)
    good = typed.filter(pl.col("_column").is_null()).select(
        [pl.col(c).cast(t) for c, t in RAW_COLUMNS.items()]
    )
    bad = typed.filter(pl.col("_column").is_not_null())
    raw_record = pl.struct([pl.col(f"_t_{c}").alias(c) for c in _TEXT_COLUMNS]).struct.json_encode()
    quarantine = bad.select(
        x_charge_date=pl.col("time_period_start"),
        x_source=pl.lit(SOURCE),
        x_ingestion_key=pl.lit(ingestion_key),
        x_source_file=pl.lit(source_file),
        x_source_line=pl.col("x_source_line"),
        x_column=pl.col("_column"),
        x_reason=pl.concat_str(pl.col("_reason"), pl.lit(": "), raw_record, ignore_nulls=True),
        x_raw_record=raw_record,
        x_amount=pl.col("_t_unblended_cost_amount"),
        x_currency=pl.col("_t_unblended_cost_unit"),
    ).select([pl.col(c).cast(t) for c, t in QUARANTINE_COLUMNS.items()])
    return ParseResult(rows=good, quarantine=quarantine)
