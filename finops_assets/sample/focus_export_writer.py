"""One day of the sample estate's Oracle Cloud bill as a FOCUS 1.2 CSV export.

Compute, block storage and object storage usage rows, then one tax row; tags carry the
cost-center key in the inconsistent spellings engineers use, and some resources are untagged.
Generated in chunks with one random stream per field, so the bytes do not depend on the chunk size.
"""

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import polars as pl

from finops_assets.domain import focus
from finops_assets.sample import estate

SOURCE = "focus_export"
CHUNK_ROWS = 200_000
TAX_RATE = Decimal("0.0825")
COLUMNS = (*focus.FOCUS_COLUMNS, "CommitmentDiscountQuantity", "CommitmentDiscountUnit")

# kind -> (ServiceName, ServiceCategory, ServiceSubcategory, ResourceType, unit, SkuId, price range
# in micro-USD per unit, quantity range in thousandths of a unit, resource id stem)
_KINDS = (
    ("Compute", "Compute", "Virtual Machines", "Instance", "OCPU Hours", "B93113", (25_000, 90_000),
     (250, 4_000), "ocid1.instance.oc1.iad."),
    ("Block Volume", "Storage", "Block Storage", "Volume", "GB-Months", "B91961", (1_000, 2_600),
     (1_000, 200_000), "ocid1.volume.oc1.iad."),
    ("Object Storage", "Storage", "Object Storage", "Bucket", "GB-Months", "B91628", (500, 2_550),
     (1_000, 500_000), "ocid1.bucket.oc1.iad."),
)  # fmt: skip
_NAME_STEMS = ("vm", "vol", "bucket")
_RESOURCES_PER_KIND = 40
_CONTRACT_DISCOUNT_PCT = 10


def write_day(landing_dir: Path, day: dt.date, seed: int, rows_per_day: int) -> list[Path]:
    """Write landing/focus_export/<day>/focus-oci-<day>.csv: rows_per_day rows, the last one tax."""
    account = estate.accounts_for_source(SOURCE)[0]
    folder = landing_dir / SOURCE / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"focus-oci-{day.isoformat()}.csv"
    streams = _Streams(seed, day)
    usage_rows = max(rows_per_day - 1, 0)
    total_nano = 0
    with path.open("wb") as out:
        pl.DataFrame(schema={c: pl.Utf8 for c in COLUMNS}).write_csv(out)
        for start in range(0, usage_rows, CHUNK_ROWS):
            chunk, chunk_nano = _usage_chunk(
                account, day, streams, min(CHUNK_ROWS, usage_rows - start)
            )
            total_nano += chunk_nano
            chunk.write_csv(out, include_header=False, null_value="")
        if rows_per_day > 0:
            _tax_row(account, day, total_nano).write_csv(out, include_header=False, null_value="")
    return [path]


class _Streams:
    """One random generator per generated field, seeded by (seed, day, field)."""

    def __init__(self, seed: int, day: dt.date) -> None:
        base = [seed, day.toordinal()]
        names = ("kind", "resource", "hour", "quantity", "price", "tag")
        self.rng = {n: np.random.default_rng([*base, i]) for i, n in enumerate(names)}

    def integers(self, field: str, low: int, high: int, size: int) -> np.ndarray:
        return self.rng[field].integers(low, high, size=size, dtype=np.int64)


def _usage_chunk(
    account: estate.Account, day: dt.date, streams: _Streams, n: int
) -> tuple[pl.DataFrame, int]:
    """n usage rows and the sum of their BilledCost in nano-USD."""
    kind = streams.integers("kind", 0, len(_KINDS), n)
    resource = streams.integers("resource", 0, _RESOURCES_PER_KIND, n)
    hour = streams.integers("hour", 0, 24, n)
    unit_draw = streams.integers("quantity", 0, 1_000_000, n)
    price_draw = streams.integers("price", 0, 1_000_000, n)
    tag_draw = streams.integers("tag", 0, len(estate.COST_CENTER_TAG_SPELLINGS) + 1, n)

    def pick(position: int) -> np.ndarray:
        return np.array([k[position] for k in _KINDS])[kind]

    lows_p, highs_p = (np.array([k[6][i] for k in _KINDS])[kind] for i in (0, 1))
    lows_q, highs_q = (np.array([k[7][i] for k in _KINDS])[kind] for i in (0, 1))
    list_price = lows_p + price_draw % (highs_p - lows_p)  # micro-USD per unit
    quantity = lows_q + unit_draw % (highs_q - lows_q)  # thousandths of a unit
    contracted_price = list_price * (100 - _CONTRACT_DISCOUNT_PCT) // 100
    list_nano, billed_nano = quantity * list_price, quantity * contracted_price
    midnight = dt.datetime.combine(day, dt.time(), dt.UTC)
    frame = pl.DataFrame(
        {
            "kind": kind,
            "ServiceName": pick(0),
            "ServiceCategory": pick(1),
            "ServiceSubcategory": pick(2),
            "ResourceType": pick(3),
            "PricingUnit": pick(4),
            "SkuId": pick(5),
            "resource": pl.Series(resource).cast(pl.Utf8).str.zfill(4),
            "stem": pick(8),
            "name_stem": np.array(_NAME_STEMS)[kind],
            "hour": hour,
            "tag_draw": tag_draw,
            "BilledCost": _decimal_text(billed_nano, 9),
            "ListCost": _decimal_text(list_nano, 9),
            "ListUnitPrice": _decimal_text(list_price, 6),
            "ContractedUnitPrice": _decimal_text(contracted_price, 6),
            "PricingQuantity": _decimal_text(quantity, 3),
        }
    )
    rows = frame.with_columns(
        (pl.lit(midnight) + pl.duration(hours=pl.col("hour"))).alias("start")
    ).with_columns(
        pl.col("BilledCost").alias("EffectiveCost"),
        pl.col("BilledCost").alias("ContractedCost"),
        pl.col("PricingQuantity").alias("ConsumedQuantity"),
        pl.col("PricingUnit").alias("ConsumedUnit"),
        _rfc3339(pl.col("start")).alias("ChargePeriodStart"),
        _rfc3339(pl.col("start") + pl.duration(hours=1)).alias("ChargePeriodEnd"),
        pl.lit("Usage").alias("ChargeCategory"),
        pl.lit("Usage-Based").alias("ChargeFrequency"),
        pl.lit("Standard").alias("PricingCategory"),
        pl.concat_str(pl.col("ServiceName"), pl.lit(" usage")).alias("ChargeDescription"),
        pl.concat_str(pl.col("SkuId"), pl.lit("-"), pl.col("PricingUnit")).alias("SkuPriceId"),
        pl.concat_str("stem", "resource").alias("ResourceId"),
        pl.concat_str(pl.lit(f"{account.name}-"), "name_stem", pl.lit("-"), "resource").alias(
            "ResourceName"
        ),
        _tags_expr(account).alias("Tags"),
    )
    return _with_account_columns(rows, account, day), int(billed_nano.sum())


def _tax_row(account: estate.Account, day: dt.date, total_nano: int) -> pl.DataFrame:
    """The day's sales tax on the usage above, half-up to cents."""
    tax = (Decimal(total_nano).scaleb(-9) * TAX_RATE).quantize(Decimal("0.01"), ROUND_HALF_UP)
    start = dt.datetime.combine(day, dt.time(), dt.UTC)
    row = pl.DataFrame(
        {
            "BilledCost": [str(tax)],
            "EffectiveCost": [str(tax)],
            "ChargeCategory": ["Tax"],
            "ChargeFrequency": ["Recurring"],
            "ChargeDescription": [f"Sales tax {TAX_RATE * 100:.2f}%"],
            "ChargePeriodStart": [_iso(start)],
            "ChargePeriodEnd": [_iso(start + dt.timedelta(days=1))],
            "ServiceName": ["Tax"],
            "ServiceCategory": ["Other"],
        }
    )
    return _with_account_columns(row, account, day)


def _with_account_columns(
    rows: pl.DataFrame, account: estate.Account, day: dt.date
) -> pl.DataFrame:
    """Add the columns that are the same on every row of the account, then order as COLUMNS."""
    month = dt.datetime(day.year, day.month, 1, tzinfo=dt.UTC)
    next_month = (month + dt.timedelta(days=32)).replace(day=1)
    constants = {
        "BillingAccountId": account.billing_account_id,
        "BillingAccountName": account.billing_account_name,
        "BillingAccountType": "Tenancy",
        "BillingCurrency": account.currency,
        "PricingCurrency": account.currency,
        "BillingPeriodStart": _iso(month),
        "BillingPeriodEnd": _iso(next_month),
        "InvoiceIssuerName": "Oracle",
        "ProviderName": "Oracle",
        "PublisherName": "Oracle",
        "RegionId": account.regions[0],
        "RegionName": "US East (Ashburn)",
        "SubAccountId": account.account_id,
        "SubAccountName": account.name,
        "SubAccountType": "Compartment",
    }
    added = rows.with_columns(*[pl.lit(v).alias(k) for k, v in constants.items()])
    return added.select(
        [
            pl.col(c).cast(pl.Utf8) if c in added.columns else pl.lit(None, pl.Utf8).alias(c)
            for c in COLUMNS
        ]
    )


def _tags_expr(account: estate.Account) -> pl.Expr:
    """Cost-center tag in one of the spellings, or no tags at all (the last draw value)."""
    keys = pl.Series(list(estate.COST_CENTER_TAG_SPELLINGS), dtype=pl.Utf8)
    key = pl.col("tag_draw").replace_strict(
        list(range(len(keys))), keys, default=None, return_dtype=pl.Utf8
    )
    return pl.concat_str(
        pl.lit('{"'), key, pl.lit(f'":"{account.business_unit}","environment":"prod"}}')
    )


def _decimal_text(units: np.ndarray, scale: int) -> pl.Series:
    """Non-negative integer units of 10**-scale as decimal text ('12.345000')."""
    series = pl.Series(units, dtype=pl.Int64)
    whole = (series // 10**scale).cast(pl.Utf8)
    fraction = (series % 10**scale).cast(pl.Utf8).str.zfill(scale)
    return whole + "." + fraction


def _rfc3339(expr: pl.Expr) -> pl.Expr:
    return expr.dt.to_string("%Y-%m-%dT%H:%M:%SZ")


def _iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
