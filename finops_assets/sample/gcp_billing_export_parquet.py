"""The sample GCP export's Parquet file in BigQuery's nested export layout (struct and repeated
columns, NUMERIC amounts as decimal128(38, 9)), built from the flat text chunks the CSV uses."""

from collections.abc import Iterable
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

NUMERIC = pl.Decimal(38, 9)

_PAIRS = pl.List(pl.Struct({"key": pl.Utf8(), "value": pl.Utf8()}))
_CREDITS = pl.List(pl.Struct({k: pl.Utf8() for k in ("name", "amount", "full_name", "id", "type")}))


def _nested(text: pl.DataFrame) -> pl.DataFrame:
    """Flat text chunk -> BigQuery's nested export layout with NUMERIC amounts."""

    def num(c: str) -> pl.Expr:
        return pl.col(c).cast(NUMERIC)

    def ts(c: str) -> pl.Expr:
        return pl.col(c).str.to_datetime("%Y-%m-%d %H:%M:%S%:z", time_unit="us")

    credit = pl.col("credits").str.replace_all(r'"amount":([-0-9.]+)', '"amount":"$1"')
    credit = credit.str.json_decode(_CREDITS).list.eval(
        pl.element().struct.with_fields(pl.field("amount").cast(NUMERIC))
    )
    return text.select(
        pl.struct(id="service.id", description="service.description").alias("service"),
        pl.struct(id="sku.id", description="sku.description").alias("sku"),
        ts("usage_start_time"),
        ts("usage_end_time"),
        pl.struct(
            id="project.id",
            number=pl.lit("123456789012"),
            name="project.name",
            labels=pl.col("project.labels").str.json_decode(_PAIRS),
            ancestry_numbers="project.ancestry_numbers",
        ).alias("project"),
        pl.col("labels").str.json_decode(_PAIRS),
        pl.col("system_labels").str.json_decode(_PAIRS),
        pl.struct(
            location="location.location",
            country="location.country",
            region="location.region",
            zone="location.zone",
        ).alias("location"),
        pl.struct(name="resource.name", global_name="resource.global_name").alias("resource"),
        ts("export_time"),
        num("cost"),
        pl.col("currency"),
        num("currency_conversion_rate"),
        pl.struct(
            amount=num("usage.amount"),
            unit="usage.unit",
            amount_in_pricing_units=num("usage.amount_in_pricing_units"),
            pricing_unit="usage.pricing_unit",
        ).alias("usage"),
        credit.alias("credits"),
        pl.struct(month="invoice.month").alias("invoice"),
        pl.col("cost_type"),
        pl.col("billing_account_id"),
        num("cost_at_list"),
        pl.col("transaction_type"),
        pl.col("seller_name"),
    )


def write_nested_parquet(path: Path, chunks: Iterable[pl.DataFrame], row_group_rows: int) -> None:
    """Write flat text chunks to `path` as one Parquet file in BigQuery's nested layout."""
    writer = None
    try:
        for chunk in chunks:
            table = _nested(chunk).to_arrow(compat_level=pl.CompatLevel.oldest())
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema, compression="snappy")
            writer.write_table(table.cast(writer.schema), row_group_size=row_group_rows)
    finally:
        if writer is not None:
            writer.close()
