"""Sample GCP detailed usage cost export for one day: a CSV for two projects, a Parquet for GKE.

Amounts are generated as integer micro-euros and written as exact decimal text (CSV) or
decimal128(38, 9) (Parquet, BigQuery NUMERIC), never as floats.
"""

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl

from finops_assets.sample import estate
from finops_assets.sample.gcp_billing_export_parquet import write_nested_parquet

SOURCE = "gcp_billing_export"
CHUNK_ROWS = 250_000
GKE_NODE_NAMES = tuple(
    f"gke-{estate.K8S_CLUSTER}-default-pool-{suffix}" for suffix in ("4f1c", "7a2e", "9b3d", "c05f")
)
_TS = "%Y-%m-%d %H:%M:%S+00:00"

# service id | service | sku id | sku | usage unit | pricing unit | usage per pricing unit
_SKU_TABLE = """
6F81-5844-456A|Compute Engine|CP-COMPUTEENGINE-VMIMAGE-N2-CORE|N2 Instance Core|seconds|hour|3600
6F81-5844-456A|Compute Engine|CP-COMPUTEENGINE-VMIMAGE-N2-RAM|N2 Instance Ram|byte-seconds|gibibyte hour|3865470566400
95FF-2EF5-5EA1|Cloud Storage|E5F0-6A5D-7BAD|Standard Storage Europe|byte-seconds|gibibyte month|2783138807808000
24E6-581D-38E5|BigQuery|3362-E469-6BEF|Analysis|bytes|tebibyte|1099511627776
CCD8-9BF1-090E|Kubernetes Engine|B561-BFBD-1264|Regional Kubernetes Clusters|seconds|hour|3600
"""
_ALL_SKUS = [line.split("|") for line in _SKU_TABLE.strip().splitlines()]
_SKUS = _ALL_SKUS[:4]
_GKE_SKUS = [_ALL_SKUS[0], _ALL_SKUS[1], _ALL_SKUS[4]]
_CREDIT_TYPES = ("SUSTAINED_USAGE_DISCOUNT", "PROMOTION", "COMMITTED_USAGE_DISCOUNT")
_CREDIT_NAMES = (
    "Sustained Usage Discount",
    "Free trial credit",
    "Committed use discount: N2 Core in europe-west1",
)
_HEADER_TEXT = (
    "billing_account_id,service.id,service.description,sku.id,sku.description,usage_start_time,"
    "usage_end_time,project.id,project.name,project.labels,project.ancestry_numbers,labels,"
    "system_labels,location.location,location.country,location.region,location.zone,export_time,"
    "cost,currency,currency_conversion_rate,usage.amount,usage.unit,usage.amount_in_pricing_units,"
    "usage.pricing_unit,credits,invoice.month,cost_type,resource.name,resource.global_name,"
    "partition_date,cost_at_list,transaction_type,seller_name"
)
_CSV_HEADER = _HEADER_TEXT.split(",")


def _micro_text(expr: pl.Expr) -> pl.Expr:
    """Integer micro-units -> exact decimal text with 6 fraction digits."""
    magnitude = expr.abs()
    return pl.concat_str(
        pl.when(expr < 0).then(pl.lit("-")).otherwise(pl.lit("")),
        (magnitude // 1_000_000).cast(pl.Utf8),
        pl.lit("."),
        (magnitude % 1_000_000).cast(pl.Utf8).str.zfill(6),
    )


def _pick(choices: list[str], index: np.ndarray) -> pl.Series:
    return pl.Series(choices, dtype=pl.Utf8).gather(pl.Series(index, dtype=pl.UInt32))


def _labels_json(rng: np.random.Generator, acct: np.ndarray, gke: bool) -> pl.Series:
    """Labels as BigQuery JSON text; cost-center key spelled inconsistently, some unlabeled."""
    if gke:
        pool = [
            f'[{{"key":"goog-k8s-cluster-name","value":"{estate.K8S_CLUSTER}"}},'
            '{"key":"goog-k8s-node-pool-name","value":"default-pool"}]'
        ]
        return _pick(pool, np.zeros(len(acct), dtype=np.int64))
    spellings = estate.COST_CENTER_TAG_SPELLINGS
    units = [a.business_unit or estate.UNALLOCATED for a in _accounts(gke)]
    choices = [
        f'[{{"key":"{k}","value":"{u}"}},{{"key":"env","value":"prod"}}]'
        for u in units
        for k in spellings
    ]
    choices += ["[]"] * len(units)
    spelling = rng.integers(0, len(spellings) + 1, len(acct))
    unlabeled = len(units) * len(spellings) + acct
    index = np.where(spelling == len(spellings), unlabeled, acct * len(spellings) + spelling)
    return _pick(choices, index)


def _texts(values: list[str], index: pl.Expr) -> pl.Expr:
    """values[index] as a vectorized lookup."""
    return pl.lit(pl.Series(values, dtype=pl.Utf8)).gather(index)


def _generate(rng: np.random.Generator, day: dt.date, n: int, gke: bool) -> pl.DataFrame:
    """n random choices (integers) for one chunk of export rows."""
    skus = _GKE_SKUS if gke else _SKUS
    cost = rng.integers(1, 5_000_000, n)
    acct = rng.integers(0, 1 if gke else 2, n)
    return pl.DataFrame(
        {
            "acct": acct,
            "sku": rng.integers(0, len(skus), n),
            "hour": rng.integers(0, 24, n),
            "cost": cost,
            "usage": rng.integers(1, 3600, n),
            "credit_kind": rng.choice(4, n, p=[0.65, 0.2, 0.05, 0.1]),
            "credit": -(cost * rng.integers(5, 31, n) // 100),
            "node": rng.integers(0, len(GKE_NODE_NAMES), n),
        }
    ).with_columns(_labels_json(rng, acct, gke).alias("labels"))


def _accounts(gke: bool) -> list[estate.Account]:
    ids = ["shared-gke-prod"] if gke else ["ml-research-prod", "data-lake-prod"]
    return [estate.account(i) for i in ids]


def _location_columns(region: pl.Expr) -> list[pl.Expr]:
    """location.* columns of an export row in the project's region."""
    return [
        region.alias("location.location"),
        pl.lit("BE").alias("location.country"),
        region.alias("location.region"),
        pl.concat_str(region, pl.lit("-b")).alias("location.zone"),
    ]


def _credits_json() -> pl.Expr:
    """At most one credit per row, as BigQuery's JSON text with the amount as a JSON number."""
    credit_kind = pl.col("credit_kind")
    has_credit = credit_kind > 0
    kind = credit_kind.clip(1, 3) - 1
    credit = pl.concat_str(
        pl.lit('[{"name":"'),
        _texts(list(_CREDIT_TYPES), kind),
        pl.lit('","amount":'),
        _micro_text(pl.col("credit")),
        pl.lit(',"full_name":"'),
        _texts(list(_CREDIT_NAMES), kind),
        pl.lit('","id":"'),
        pl.concat_str(pl.lit("credit-"), kind.cast(pl.Utf8)),
        pl.lit('","type":"'),
        _texts(list(_CREDIT_TYPES), kind),
        pl.lit('"}]'),
    )
    return pl.when(has_credit).then(credit).otherwise(pl.lit("[]"))


def _sku_columns(skus: list[list[str]]) -> list[pl.Expr]:
    """service.* and sku.* of the row's SKU."""
    sku = pl.col("sku")
    return [
        _texts([s[0] for s in skus], sku).alias("service.id"),
        _texts([s[1] for s in skus], sku).alias("service.description"),
        _texts([s[2] for s in skus], sku).alias("sku.id"),
        _texts([s[3] for s in skus], sku).alias("sku.description"),
    ]


def _chunk(day: dt.date, choices: pl.DataFrame, gke: bool) -> pl.DataFrame:
    """Generated choices -> export rows as flat text columns (the CSV layout)."""
    skus = _GKE_SKUS if gke else _SKUS
    accounts = _accounts(gke)
    sku = pl.col("sku")
    acct = pl.col("acct")
    midnight = dt.datetime.combine(day, dt.time(), dt.UTC)
    hours = [(midnight + dt.timedelta(hours=h)).strftime(_TS) for h in range(25)]
    region = _texts([a.regions[0] for a in accounts], acct)
    resource = (
        _texts(list(GKE_NODE_NAMES), pl.col("node"))
        if gke
        else pl.concat_str(pl.lit("instance-"), _texts([a.account_id for a in accounts], acct))
    )
    usage_per_unit = pl.lit(pl.Series([int(s[6]) for s in skus])).gather(sku)
    return choices.select(
        pl.lit(accounts[0].billing_account_id).alias("billing_account_id"),
        *_sku_columns(skus),
        _texts(hours, pl.col("hour")).alias("usage_start_time"),
        _texts(hours, pl.col("hour") + 1).alias("usage_end_time"),
        _texts([a.account_id for a in accounts], acct).alias("project.id"),
        _texts([a.name for a in accounts], acct).alias("project.name"),
        pl.lit("[]").alias("project.labels"),
        pl.lit("/1234567/").alias("project.ancestry_numbers"),
        pl.col("labels"),
        pl.lit("[]").alias("system_labels"),
        *_location_columns(region),
        pl.lit((midnight + dt.timedelta(hours=30)).strftime(_TS)).alias("export_time"),
        _micro_text(pl.col("cost")).alias("cost"),
        pl.lit("EUR").alias("currency"),
        pl.lit("1.0").alias("currency_conversion_rate"),
        pl.col("usage").cast(pl.Utf8).alias("usage.amount"),
        _texts([s[4] for s in skus], sku).alias("usage.unit"),
        (pl.col("usage") * 1_000_000 // usage_per_unit)
        .pipe(_micro_text)
        .alias("usage.amount_in_pricing_units"),
        _texts([s[5] for s in skus], sku).alias("usage.pricing_unit"),
        _credits_json().alias("credits"),
        pl.lit(day.strftime("%Y%m")).alias("invoice.month"),
        pl.lit("regular").alias("cost_type"),
        resource.alias("resource.name"),
        pl.concat_str(
            pl.lit("//compute.googleapis.com/projects/"),
            _texts([a.account_id for a in accounts], acct),
            pl.lit("/zones/"),
            region,
            pl.lit("-b/instances/"),
            resource,
        ).alias("resource.global_name"),
        pl.lit(day.isoformat()).alias("partition_date"),
        _micro_text(pl.col("cost") * 6 // 5).alias("cost_at_list"),
        pl.lit(None, pl.Utf8).alias("transaction_type"),
        pl.lit("Google").alias("seller_name"),
    )


def _tax_rows(day: dt.date, gke: bool, seed: int) -> pl.DataFrame:
    """One tax row per project on the first of the month (cost_type tax)."""
    accounts = _accounts(gke)
    rng = np.random.default_rng([seed, day.toordinal(), 99, int(gke)])
    n = len(accounts)
    zeros = {c: np.zeros(n, dtype=np.int64) for c in ("sku", "hour", "usage", "credit_kind")}
    choices = pl.DataFrame(
        {"acct": np.arange(n), "cost": rng.integers(1_000_000, 50_000_000, n), **zeros}
    ).with_columns(credit=pl.lit(0, pl.Int64), node=pl.lit(0, pl.Int64), labels=pl.lit("[]"))
    return _chunk(day, choices, gke).with_columns(
        pl.lit("Invoice").alias("service.description"),
        pl.lit("Invoice").alias("service.id"),
        pl.lit("Tax").alias("sku.id"),
        pl.lit("Tax").alias("sku.description"),
        pl.lit("tax").alias("cost_type"),
        pl.lit(None, pl.Utf8).alias("resource.name"),
        pl.lit(None, pl.Utf8).alias("resource.global_name"),
    )


def _chunks(day: dt.date, seed: int, rows: int, gke: bool):
    """Text chunks of at most CHUNK_ROWS rows; the tax rows come first on the 1st."""
    if day.day == 1:
        yield _tax_rows(day, gke, seed)
    for number, offset in enumerate(range(0, max(rows, 1), CHUNK_ROWS)):  # 0 rows: empty chunk
        rng = np.random.default_rng([seed, day.toordinal(), int(gke), number])
        n = min(CHUNK_ROWS, rows - offset)
        yield _chunk(day, _generate(rng, day, n, gke), gke)


def _write_csv(path: Path, chunks) -> None:
    with path.open("wb") as out:
        out.write((",".join(_CSV_HEADER) + "\n").encode())
        for chunk in chunks:
            chunk.select(_CSV_HEADER).write_csv(out, include_header=False)


def write_day(landing_dir: Path, day: dt.date, seed: int, rows_per_day: int) -> list[Path]:
    """Write one day's export: projects CSV (2/3 of the rows) and the GKE project's Parquet."""
    folder = landing_dir / SOURCE / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    csv_rows = rows_per_day * 2 // 3
    csv_path = folder / f"gcp_billing_export_v1_{day:%Y%m%d}_projects.csv"
    parquet_path = folder / f"gcp_billing_export_v1_{day:%Y%m%d}_shared-gke-prod.parquet"
    _write_csv(csv_path, _chunks(day, seed, csv_rows, gke=False))
    gke_chunks = _chunks(day, seed, rows_per_day - csv_rows, gke=True)
    write_nested_parquet(parquet_path, gke_chunks, CHUNK_ROWS)
    return [csv_path, parquet_path]
