"""normalized_costs as FOCUS 1.2 and FOCUS 1.3 datasets (focus_export), and the 1.3 contract.

FOCUS 1.2 is our normalized model as it is: FOCUS columns, then our x_ columns. FOCUS 1.3 adds
ServiceProviderName and HostProviderName (and keeps ProviderName and PublisherName, deprecated;
1.4 removes them). The provider hosts; it sells too, except on a Marketplace row, whose seller
(PublisherName, a party other than the provider) is the service provider.
The focus-validator cannot run 1.3 offline: FOCUS13_SCHEMA (pandera) checks the 1.3 dataset.
"""

import pandera.polars as pa
import polars as pl

from finops_assets.domain.focus import CHARGE_CATEGORIES, FOCUS_COLUMNS, NORMALIZED_COLUMNS
from finops_assets.domain.sources.focus_entities import provider_slug_expr

FOCUS13_NEW_COLUMNS: dict[str, pl.DataType] = {
    "ServiceProviderName": pl.Utf8(),
    "HostProviderName": pl.Utf8(),
}
FOCUS13_COLUMNS: dict[str, pl.DataType] = {**FOCUS_COLUMNS, **FOCUS13_NEW_COLUMNS}
X_COLUMNS = {c: t for c, t in NORMALIZED_COLUMNS.items() if c.startswith("x_")}
# FOCUS 1.3 columns that MUST NOT be null on any row (the ones our model always fills).
FOCUS13_REQUIRED = (
    "BilledCost",
    "BillingAccountId",
    "BillingCurrency",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargeCategory",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "EffectiveCost",
    "ContractedCost",
    "ListCost",
    "InvoiceIssuerName",
    "ServiceProviderName",
    "HostProviderName",
    "ServiceName",
    "ServiceCategory",
)


def focus12_rows(normalized: pl.DataFrame) -> pl.DataFrame:
    """The FOCUS 1.2 dataset: FOCUS columns, then x_ columns, FOCUS types."""
    columns = {**FOCUS_COLUMNS, **X_COLUMNS}
    return normalized.select([pl.col(c).cast(t) for c, t in columns.items()])


def focus13_rows(normalized: pl.DataFrame) -> pl.DataFrame:
    """The FOCUS 1.3 dataset: 1.2's columns plus ServiceProviderName and HostProviderName.

    By the spec's migration table: the provider hosts (HostProviderName); it is also the service
    provider unless the publisher is another party (a Marketplace seller), which then is.
    """
    provider, publisher = pl.col("ProviderName"), pl.col("PublisherName")
    third_party = provider_slug_expr(publisher) != provider_slug_expr(provider)
    added = [
        pl.when(third_party.fill_null(False))
        .then(publisher)
        .otherwise(provider)
        .alias("ServiceProviderName"),
        provider.alias("HostProviderName"),
    ]
    columns = {**FOCUS13_COLUMNS, **X_COLUMNS}
    return normalized.with_columns(added).select([pl.col(c).cast(t) for c, t in columns.items()])


def _column(name: str, dtype: pl.DataType) -> pa.Column:
    checks = []
    if name == "ChargeCategory":
        checks.append(pa.Check.isin(list(CHARGE_CATEGORIES)))
    if name in ("BillingCurrency", "PricingCurrency"):
        checks.append(pa.Check.str_matches(r"^[A-Z]{3}$"))
    return pa.Column(dtype, checks=checks, nullable=name not in FOCUS13_REQUIRED)


FOCUS13_SCHEMA = pa.DataFrameSchema(
    {name: _column(name, dtype) for name, dtype in {**FOCUS13_COLUMNS, **X_COLUMNS}.items()},
    checks=[
        pa.Check(
            lambda data: data.lazyframe.select(
                (pl.col("ChargePeriodStart") < pl.col("ChargePeriodEnd")).alias("period")
            ),
            name="charge_period_start_before_end",
        )
    ],
    strict=True,
    name="focus_1_3",
)
