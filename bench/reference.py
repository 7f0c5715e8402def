"""What every implementation of the benchmark shares: the day, FX rates, catalog, tags, rules."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from finops_assets.domain import fx
from finops_assets.domain.catalog import load_shipped_catalog
from finops_assets.domain.reference import load_tag_aliases
from finops_assets.domain.rules import SHIPPED_RULES_PATH, AllocationRules, load_rules_file
from finops_assets.sample.aws_cur_writer import write_parquet_export

DAY = dt.date(2026, 10, 1)
SEED = 20261001
# A base currency other than the CUR's USD, so that every amount is really converted and rounded.
BASE_CURRENCY = "EUR"
INGESTION_KEY = "bench"
FETCHED_AT = dt.datetime(2026, 10, 2, tzinfo=dt.UTC)
DATA_DIR = Path(__file__).resolve().parent / "data"
# Totals compared across implementations: per business unit, these sums (MONEY, scale 10).
TOTAL_COLUMNS = ("BilledCost", "EffectiveCost", "x_billed_cost_base", "x_effective_cost_base")


@dataclass(frozen=True)
class Reference:
    """The shipped reference data of the benchmark day, as each implementation needs it."""

    rates: pl.DataFrame  # fx.conversion_rates: currency, x_fx_rate, x_fx_rate_date
    catalog: pl.DataFrame
    catalog_version: str
    tag_aliases: dict[str, str]
    rules: AllocationRules
    base_currency: str
    minor_units: int

    def rate(self, currency: str) -> Decimal:
        """The conversion rate of `currency` into the base currency (12 decimals)."""
        return self.rates.filter(pl.col("currency") == currency)["x_fx_rate"].item()


def load_reference(base_currency: str = BASE_CURRENCY, day: dt.date = DAY) -> Reference:
    """Shipped ECB rates (cross rates for `day`), service catalog, tag aliases and rules."""
    history = fx.load_shipped_ecb_rates()
    day_rates = fx.rates_for_day(history, day, {"USD", "EUR", "JPY", base_currency})
    catalog, version = load_shipped_catalog()
    return Reference(
        rates=fx.conversion_rates(day_rates, base_currency),
        catalog=catalog,
        catalog_version=version,
        tag_aliases=load_tag_aliases(),
        rules=load_rules_file(SHIPPED_RULES_PATH),
        base_currency=base_currency,
        minor_units=fx.minor_units(base_currency),
    )


def cur_input(rows_per_day: int, data_dir: Path = DATA_DIR) -> Path:
    """The benchmark's CUR 2.0 Parquet day of about `rows_per_day` rows (generated once)."""
    path = data_dir / f"cur2-{DAY.isoformat()}-{rows_per_day}.snappy.parquet"
    if not path.exists():
        partial = path.with_suffix(".partial")
        write_parquet_export(partial, DAY, SEED, rows_per_day)
        partial.rename(path)
    return path


def strided_sample(source: Path, rows: int) -> Path:
    """About `rows` rows of `source`, every k-th row, as a Parquet file of the same schema.

    A stride rather than the head keeps the day's mix of accounts, tags and shared pools.
    """
    parquet = pq.ParquetFile(source)
    step = max(1, parquet.metadata.num_rows // rows)
    path = source.with_name(f"{source.name.split('.')[0]}-every{step}.parquet")
    if path.exists():
        return path
    partial, offset = path.with_suffix(".partial"), 0
    with pq.ParquetWriter(partial, parquet.schema_arrow, compression="snappy") as writer:
        for batch in parquet.iter_batches(batch_size=step * 10_000):
            first = (-offset) % step
            writer.write_table(
                pa.Table.from_batches([batch]).take(pa.array(range(first, batch.num_rows, step)))
            )
            offset += batch.num_rows
    partial.rename(path)
    return path


def unit_sums(frame: pl.DataFrame) -> pl.DataFrame:
    """Per business unit: rows and the TOTAL_COLUMNS sums (of allocated rows, or of such sums)."""
    if "rows" in frame.columns:
        return frame.group_by("x_business_unit").agg(pl.col("rows", *TOTAL_COLUMNS).sum())
    return frame.group_by("x_business_unit").agg(
        pl.len().cast(pl.Int64).alias("rows"), *[pl.col(c).sum() for c in TOTAL_COLUMNS]
    )


def totals_text(frame: pl.DataFrame) -> dict[str, list[str]]:
    """Per business unit: [rows, *TOTAL_COLUMNS sums] as text, the form that is compared."""
    return {
        row[0]: [str(row[1]), *(format(v, ".10f") for v in row[2:])]
        for row in unit_sums(frame).sort("x_business_unit").rows()
    }
