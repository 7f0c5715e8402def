"""Azure Cost Management Query API (api-version 2023-11-01): one response page per payload.

Columns are dynamic (`properties.columns`), so they are mapped by name. The page is decoded with
`json.loads(parse_float=Decimal)`: amounts that arrive as JSON numbers never pass through a float.
A page without a UsageDate column (granularity None) is dated by the day it was fetched.
"""

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import polars as pl

from finops_assets.domain.money import MONEY, parse_money_expr
from finops_assets.domain.sources import azure_cost_focus as _focus
from finops_assets.domain.sources.azure_focus_later import readable_info_expr
from finops_assets.domain.sources.azure_tags import canonical_tags
from finops_assets.domain.sources.common import (
    INGEST_METADATA_COLUMNS,
    QUARANTINE_COLUMNS,
    ParseResult,
    SourceFormatError,
)
from finops_assets.domain.sources.dates import parse_date_text_expr

SOURCE = "azure_cost"
PROVIDER = "azure"

_S = pl.Utf8()
RAW_COLUMNS: dict[str, pl.DataType] = {
    "usage_date": pl.Date(),
    "cost": MONEY,
    "cost_usd": MONEY,
    "currency": _S,
    "billing_scope": _S,
    "subscription_id": _S,
    "subscription_name": _S,
    "resource_group": _S,
    "resource_id": _S,
    "resource_type": _S,
    "resource_location": _S,
    "service_name": _S,
    "consumed_service": _S,
    "meter_category": _S,
    "meter_subcategory": _S,
    "meter": _S,
    "charge_type": _S,
    "publisher_type": _S,
    "pricing_model": _S,
    "reservation_id": _S,
    "reservation_name": _S,
    "tags_json": _S,
    "quantity": MONEY,
    "unit_of_measure": _S,
    "billing_account_id": _S,
    "billing_account_name": _S,
    "billing_profile_id": _S,
    "billing_profile_name": _S,
    "benefit_id": _S,
    "benefit_name": _S,
    "frequency": _S,
    "publisher_name": _S,
    "resource_name": _S,
    "product": _S,
    "additional_info": _S,  # AdditionalInfo JSON object text, as sent
    "pricing_currency": _S,  # MCA PricingCurrency (EA: none, prices in the billing currency)
    "exchange_rate": MONEY,  # MCA ExchangeRatePricingToBilling
    "export_dataset": _S,  # ActualCost / AmortizedCost (export files), null for Query API pages
    **INGEST_METADATA_COLUMNS,
}

# Query API column name (lower case) -> raw column; the first name found wins.
_ALIASES: dict[str, tuple[str, ...]] = {
    "cost": ("pretaxcost", "cost", "costinbillingcurrency", "totalcost"),
    "cost_usd": ("pretaxcostusd", "costusd", "costinusd"),
    "usage_date": ("usagedate", "date", "usagedatetime"),
    "currency": ("currency", "billingcurrency", "billingcurrencycode"),
    "subscription_id": ("subscriptionid", "subscriptionguid"),
    "subscription_name": ("subscriptionname",),
    "resource_group": ("resourcegroupname", "resourcegroup"),
    "resource_id": ("resourceid", "instancename"),
    "resource_type": ("resourcetype",),
    "resource_location": ("resourcelocation", "location"),
    "service_name": ("servicename",),
    "consumed_service": ("consumedservice",),
    "meter_category": ("metercategory",),
    "meter_subcategory": ("metersubcategory",),
    "meter": ("meter", "metername"),
    "charge_type": ("chargetype",),
    "publisher_type": ("publishertype",),
    "pricing_model": ("pricingmodel",),
    "reservation_id": ("reservationid",),
    "reservation_name": ("reservationname",),
    "tags_json": ("tags", "tag"),
    "quantity": ("quantity", "usagequantity"),
    "unit_of_measure": ("unitofmeasure",),
    "billing_account_id": ("billingaccountid",),
    "billing_account_name": ("billingaccountname",),
    "billing_profile_id": ("billingprofileid",),
    "billing_profile_name": ("billingprofilename",),
    "benefit_id": ("benefitid",),
    "benefit_name": ("benefitname",),
    "frequency": ("frequency",),
    "publisher_name": ("publishername",),
    "resource_name": ("resourcename",),
    "product": ("productname", "product"),
    "additional_info": ("additionalinfo",),
    "pricing_currency": ("pricingcurrency", "pricingcurrencycode"),
    "exchange_rate": ("exchangeratepricingtobilling",),
}
_NOT_TEXT = ("cost", "cost_usd", "usage_date", "tags_json", "quantity", "exchange_rate")
_TEXT_COLUMNS = [c for c in _ALIASES if c not in _NOT_TEXT]


def _page(payload: Any, source_file: str) -> dict:
    """The response body: a bare page or a recorded example wrapping it in responses.200.body."""
    if isinstance(payload, dict) and "responses" in payload and "properties" not in payload:
        payload = payload.get("responses", {}).get("200", {}).get("body", {})
    props = payload.get("properties") if isinstance(payload, dict) else None
    if not isinstance(props, dict) or not isinstance(props.get("columns"), list):
        raise SourceFormatError(f"{source_file}: not a Cost Management query page (no columns)")
    if not isinstance(props.get("rows"), list):
        raise SourceFormatError(f"{source_file}: not a Cost Management query page (no rows)")
    return payload


def _as_text(value: Any) -> str | None:
    """A JSON cell as text: Decimal and int exactly, lists/objects as JSON."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Decimal | int):
        return str(value)
    return json.dumps(value, default=str, separators=(",", ":"))


def _text_frame(page: dict, source_file: str) -> tuple[pl.DataFrame, set[str]]:
    """Rows of the page as text columns named by raw column, plus the API column names."""
    columns = [str(c.get("name", "")) for c in page["properties"]["columns"]]
    index = {name.lower(): i for i, name in enumerate(columns)}
    rows = [r if isinstance(r, list) else [] for r in page["properties"]["rows"]]
    picked = _pick(index)
    if "cost" not in picked and "cost_usd" not in picked:
        raise SourceFormatError(f"{source_file}: no cost column among {columns}")
    data = {
        f"t.{raw}": [_as_text(r[i]) if i < len(r) else None for r in rows]
        for raw, i in picked.items()
    }
    data["__record"] = [
        json.dumps(dict(zip(columns, map(_as_text, r), strict=False))) for r in rows
    ]
    frame = pl.DataFrame(data, schema={k: pl.Utf8 for k in data}).with_row_index("__line", 1)
    missing = [f"t.{raw}" for raw in _ALIASES if raw not in picked]
    return frame.with_columns([pl.lit(None, pl.Utf8).alias(m) for m in missing]), set(picked)


def _pick(index: dict[str, int]) -> dict[str, int]:
    picked = {}
    for raw, names in _ALIASES.items():
        found = [index[n] for n in names if n in index]
        if found:
            picked[raw] = found[0]
    return picked


def _usage_date_expr(column: str) -> pl.Expr:
    """The row's UTC usage day: ISO, YYYYMMDD, M/D/YYYY or M/D/YY (see dates.py)."""
    return parse_date_text_expr(pl.col(column))


def parse(
    data: bytes, *, source_file: str, ingestion_key: str, fetched_at: dt.datetime
) -> ParseResult:
    """One Query API page (or a CSV cost export file) -> typed raw rows and quarantined rows."""
    if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] not in (b"{", b"["):
        from finops_assets.domain.sources import azure_export_csv  # export files are CSV

        return azure_export_csv.parse(
            data, source_file=source_file, ingestion_key=ingestion_key, fetched_at=fetched_at
        )
    try:
        payload = json.loads(data, parse_float=Decimal)
    except ValueError as exc:
        raise SourceFormatError(f"{source_file}: not JSON: {exc}") from exc
    page = _page(payload, source_file)
    text, found = _text_frame(page, source_file)
    has_date = "usage_date" in found
    tags, tags_ok = canonical_tags(text["t.tags_json"])
    cost_text = pl.coalesce("t.cost", "t.cost_usd")
    typed = text.with_columns(
        parse_money_expr("t.cost").alias("cost"),
        parse_money_expr("t.cost_usd").alias("cost_usd"),
        parse_money_expr("t.quantity").alias("quantity"),
        parse_money_expr("t.exchange_rate").alias("exchange_rate"),
        readable_info_expr("t.additional_info").alias("__info_ok"),
        _usage_date_expr("t.usage_date").alias("usage_date"),
        *[pl.col(f"t.{c}").replace("", None).alias(c) for c in _TEXT_COLUMNS],
        tags.alias("tags_json"),
        tags_ok.alias("__tags_ok"),
        pl.lit(None, pl.Utf8).alias("export_dataset"),
        pl.lit(str(page.get("id", "")).split("/providers/Microsoft.CostManagement")[0]).alias(
            "billing_scope"
        ),
    ).with_columns(
        pl.coalesce("cost", "cost_usd").alias("cost"),
        pl.coalesce("currency", pl.when(pl.col("t.cost").is_null()).then(pl.lit("USD"))).alias(
            "currency"
        ),
        pl.coalesce("usage_date", pl.lit(fetched_at.date())).alias("x_charge_date"),
    )
    typed = typed.with_columns(pl.coalesce(_row_checks(has_date)).alias("__problem"))
    good = typed.filter(pl.col("__problem").is_null())
    rows = good.with_columns(
        pl.lit(ingestion_key).alias("x_ingestion_key"),
        pl.lit(source_file).alias("x_source_file"),
        pl.col("__line").cast(pl.Int64).alias("x_source_line"),
        pl.lit(fetched_at).cast(pl.Datetime("us", "UTC")).alias("x_fetched_at"),
    ).select([pl.col(c).cast(t) for c, t in RAW_COLUMNS.items()])
    quarantine = typed.filter(pl.col("__problem").is_not_null()).select(
        pl.col("x_charge_date"),
        pl.lit(SOURCE).alias("x_source"),
        pl.lit(ingestion_key).alias("x_ingestion_key"),
        pl.lit(source_file).alias("x_source_file"),
        pl.col("__line").cast(pl.Int64).alias("x_source_line"),
        pl.col("__problem").str.splitn("|", 2).struct.field("field_0").alias("x_column"),
        pl.col("__problem").str.splitn("|", 2).struct.field("field_1").alias("x_reason"),
        pl.col("__record").alias("x_raw_record"),
        cost_text.alias("x_amount"),
        pl.col("t.currency").alias("x_currency"),
    )
    return ParseResult(rows=rows, quarantine=quarantine.cast(QUARANTINE_COLUMNS))  # type: ignore[arg-type]


def _row_checks(has_date: bool) -> list[pl.Expr]:
    """One expression per check: null when the row is fine, else 'column|reason'."""
    cost_text = pl.coalesce("t.cost", "t.cost_usd")
    checks: list[pl.Expr] = [
        pl.when(pl.col("cost").is_null()).then(
            pl.format("Cost|invalid amount: {}", cost_text.fill_null("<empty>"))
        ),
        pl.when(pl.col("t.cost_usd").is_not_null() & pl.col("cost_usd").is_null()).then(
            pl.format("CostUSD|invalid amount: {}", pl.col("t.cost_usd"))
        ),
        pl.when(pl.col("t.quantity").is_not_null() & pl.col("quantity").is_null()).then(
            pl.format("Quantity|invalid quantity: {}", pl.col("t.quantity"))
        ),
        pl.when(pl.col("t.exchange_rate").is_not_null() & pl.col("exchange_rate").is_null()).then(
            pl.format("ExchangeRatePricingToBilling|invalid rate: {}", pl.col("t.exchange_rate"))
        ),
        pl.when(~pl.col("__info_ok")).then(
            pl.format("AdditionalInfo|not a JSON object: {}", pl.col("t.additional_info"))
        ),
        pl.when(pl.col("currency").fill_null("").str.strip_chars() == "").then(
            pl.lit("Currency|missing currency")
        ),
        pl.when(~pl.col("__tags_ok")).then(
            pl.format("Tags|unreadable tags: {}", pl.col("t.tags_json"))
        ),
    ]
    if has_date:
        checks.insert(
            1,
            pl.when(pl.col("usage_date").is_null()).then(
                pl.format("UsageDate|invalid date: {}", pl.col("t.usage_date").fill_null("<empty>"))
            ),
        )
    return checks


def to_focus(raw: pl.DataFrame) -> pl.DataFrame:
    """Raw query rows -> FOCUS rows, one per row, ChargeCategory from ChargeType."""
    return _focus.to_focus(raw)


def row_amounts(raw: pl.DataFrame) -> pl.DataFrame:
    """Per row, in order: the billed amount (BilledCost, see billed_cost_expr) and its currency."""
    return raw.select(
        _focus.billed_cost_expr().cast(MONEY).alias("amount"), pl.col("currency").cast(pl.Utf8)
    )


def billed_totals(raw: pl.DataFrame) -> pl.DataFrame:
    """Per billing currency: the sum of the rows' billed amounts (BilledCost)."""
    return (
        raw.group_by("currency")
        .agg(_focus.billed_cost_expr().sum().cast(MONEY).alias("amount"))
        .sort("currency")
    )
