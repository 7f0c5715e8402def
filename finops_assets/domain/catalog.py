"""The service catalog: provider-native service codes -> FOCUS ServiceName and ServiceCategory."""

import hashlib

import polars as pl

from finops_assets.domain.money import MONEY
from finops_assets.domain.reference import SERVICE_CATALOG_FILE, reference_bytes

# The day the shipped catalog was last curated; the hash part changes with any edit of the file.
CATALOG_DATE = "2026.12.07"

# FOCUS 1.2 ServiceCategory allowed values.
SERVICE_CATEGORIES = (
    "AI and Machine Learning",
    "Analytics",
    "Business Applications",
    "Compute",
    "Databases",
    "Developer Tools",
    "Multicloud",
    "Identity",
    "Integration",
    "Internet of Things",
    "Management and Governance",
    "Media",
    "Migration",
    "Mobile",
    "Networking",
    "Security",
    "Storage",
    "Web",
    "Other",
)
OTHER_CATEGORY = "Other"
OTHER_SUBCATEGORY = "Other (Other)"
UNKNOWN_SERVICE = "Unknown"

CATALOG_COLUMNS: dict[str, pl.DataType] = {
    "provider": pl.Utf8(),
    "service_code": pl.Utf8(),
    "ServiceName": pl.Utf8(),
    "ServiceCategory": pl.Utf8(),
    "ServiceSubcategory": pl.Utf8(),
}
UNMAPPED_COLUMNS: dict[str, pl.DataType] = {
    "provider": pl.Utf8(),
    "service_code": pl.Utf8(),
    "currency": pl.Utf8(),
    "rows": pl.Int64(),
    "cost": MONEY,
}


def catalog_version(data: bytes) -> str:
    """Version of a catalog file: "YYYY.MM.DD-<first 8 hex of its sha256>"."""
    return f"{CATALOG_DATE}-{hashlib.sha256(data).hexdigest()[:8]}"


def load_catalog(data: bytes) -> pl.DataFrame:
    """Catalog CSV bytes -> CATALOG_COLUMNS frame; rejects categories FOCUS does not allow."""
    catalog = pl.read_csv(data, infer_schema=False).select(list(CATALOG_COLUMNS))
    bad = catalog.filter(~pl.col("ServiceCategory").is_in(SERVICE_CATEGORIES))
    if not bad.is_empty():
        first = bad.row(0, named=True)
        raise ValueError(
            f"service catalog: {bad.height} rows with a non-FOCUS ServiceCategory, first "
            f"{first['provider']}/{first['service_code']}: {first['ServiceCategory']!r}"
        )
    keys = catalog.select(pl.col("provider").str.to_lowercase(), _lower("service_code"))
    if keys.is_duplicated().any():
        raise ValueError("service catalog: duplicate (provider, service_code) keys")
    return catalog


def load_shipped_catalog() -> tuple[pl.DataFrame, str]:
    """The catalog shipped in finops_assets/reference and its version."""
    data = reference_bytes(SERVICE_CATALOG_FILE)
    return load_catalog(data), catalog_version(data)


CATALOG_VERSION = catalog_version(reference_bytes(SERVICE_CATALOG_FILE))


def _lower(column: str) -> pl.Expr:
    return pl.col(column).str.strip_chars().str.to_lowercase()


_SERVICE_COLUMNS = (
    "x_provider",
    "x_service_code",
    "ServiceName",
    "ServiceCategory",
    "ServiceSubcategory",
)
_RESOLVED = ("ServiceName", "ServiceCategory", "ServiceSubcategory")


def apply_service_catalog(
    frame: pl.DataFrame, catalog: pl.DataFrame, catalog_version: str = CATALOG_VERSION
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Set ServiceName/Category/Subcategory from the catalog; list what it does not know.

    Join on (x_provider, x_service_code), case-insensitively. Unmapped rows are kept: their
    ServiceName stays the source's (else the code, else "Unknown"), their ServiceCategory stays
    the source's when it is a FOCUS value, else "Other". `unmapped` has UNMAPPED_COLUMNS: rows
    and BilledCost per provider, service code and billing currency.

    The catalog is resolved once per distinct combination of the service columns (a few
    hundred a day) and joined back to the rows, never string-processed per row.
    """
    combos = frame.select(_SERVICE_COLUMNS).unique()
    resolved = _one_category_per_service(_resolve(combos, catalog))
    joined = _join_resolved(frame, resolved)
    unmapped = _unmapped_summary(joined.filter(~pl.col("_mapped")))
    out = joined.drop("_mapped").with_columns(x_catalog_version=pl.lit(catalog_version, pl.Utf8))
    return out, unmapped


def _resolve(combos: pl.DataFrame, catalog: pl.DataFrame) -> pl.DataFrame:
    """Per combination of the service columns: _mapped and the catalog's (or kept) values."""
    lookup = catalog.select(
        pl.col("provider").str.to_lowercase().alias("_provider"),
        _lower("service_code").alias("_code"),
        pl.col("ServiceName").alias("_name"),
        pl.col("ServiceCategory").alias("_category"),
        pl.col("ServiceSubcategory").alias("_subcategory"),
    )
    joined = combos.with_columns(
        _lower("x_provider").alias("_provider"), _lower("x_service_code").alias("_code")
    ).join(lookup, on=["_provider", "_code"], how="left", maintain_order="left")
    mapped = pl.col("_category").is_not_null()
    source_category_ok = pl.col("ServiceCategory").is_in(SERVICE_CATEGORIES).fill_null(False)
    return joined.select(
        *(pl.col(c).alias(f"_in_{c}") for c in _SERVICE_COLUMNS),
        mapped.alias("_mapped"),
        ServiceName=pl.when(mapped)
        .then(pl.col("_name"))
        .otherwise(pl.coalesce("ServiceName", "x_service_code", pl.lit(UNKNOWN_SERVICE))),
        ServiceCategory=pl.when(mapped)
        .then(pl.col("_category"))
        .when(source_category_ok)
        .then(pl.col("ServiceCategory"))
        .otherwise(pl.lit(OTHER_CATEGORY)),
        ServiceSubcategory=pl.when(mapped)
        .then(pl.col("_subcategory"))
        .when(source_category_ok)
        .then(pl.col("ServiceSubcategory"))
        .otherwise(pl.lit(OTHER_SUBCATEGORY)),
    )


def _join_resolved(frame: pl.DataFrame, resolved: pl.DataFrame) -> pl.DataFrame:
    """Each row with its combination's resolved service columns and _mapped.

    Rows find their combination by a 64-bit hash of the five service columns (one integer join
    instead of five string ones); when two distinct combinations share a hash, by the columns.
    """
    keys = [f"_in_{c}" for c in _SERVICE_COLUMNS]
    right = resolved.select(*keys, "_mapped", *(pl.col(c).alias(f"_out_{c}") for c in _RESOLVED))
    combo_hash = right.select(_combo_hash(keys)).to_series()
    if combo_hash.n_unique() == right.height:
        # row -> its combination's position, then the few resolved values gathered by it: no
        # join, so the frame's other columns are never copied
        position = frame.select(_combo_hash(list(_SERVICE_COLUMNS))).to_series()
        position = position.replace_strict(
            combo_hash, pl.Series(range(right.height), dtype=pl.UInt32), return_dtype=pl.UInt32
        )
        values = right.drop(keys)
        joined = frame.with_columns(values.get_column(c).gather(position) for c in values.columns)
    else:  # a hash collision between two combinations of the day: join on the columns
        joined = frame.join(
            right,
            left_on=list(_SERVICE_COLUMNS),
            right_on=keys,
            how="left",
            nulls_equal=True,
            maintain_order="left",
        )
    return joined.with_columns(pl.col(f"_out_{c}").alias(c) for c in _RESOLVED).drop(
        [f"_out_{c}" for c in _RESOLVED]
    )


def _combo_hash(columns: list[str]) -> pl.Expr:
    """A 64-bit hash of the values (nulls included) of `columns`, fixed seeds."""
    return pl.struct(columns).hash(seed=0x5EED, seed_1=1, seed_2=2, seed_3=3)


def _one_category_per_service(rows: pl.DataFrame) -> pl.DataFrame:
    """FOCUS: one ServiceCategory and ServiceSubcategory per ServiceName, never a null subcategory.

    Where sources disagree for an unmapped service, the first category in sort order wins; a
    missing subcategory becomes "Other (<category>)". Over distinct combinations or over rows,
    the min is the same.
    """
    category = pl.col("ServiceCategory").min().over("ServiceName")
    return rows.with_columns(ServiceCategory=category).with_columns(
        ServiceSubcategory=pl.coalesce(
            pl.col("ServiceSubcategory").min().over("ServiceName", "ServiceCategory"),
            pl.format("Other ({})", pl.col("ServiceCategory")),
        )
    )


def _unmapped_summary(rows: pl.DataFrame) -> pl.DataFrame:
    return (
        rows.group_by(
            pl.col("x_provider").alias("provider"),
            pl.col("x_service_code").alias("service_code"),
            pl.col("BillingCurrency").alias("currency"),
        )
        .agg(
            pl.len().cast(pl.Int64).alias("rows"),
            pl.col("BilledCost").sum().cast(MONEY).alias("cost"),
        )
        .sort("provider", "service_code", "currency", nulls_last=True)
        .cast(UNMAPPED_COLUMNS)  # type: ignore[arg-type]
    )
