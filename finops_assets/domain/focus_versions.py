"""normalized_costs as FOCUS 1.2 and FOCUS 1.3 datasets (focus_export), and the 1.3 contract.

FOCUS 1.2 is our normalized model's FOCUS 1.2 columns, then our x_ columns. FOCUS 1.3 adds the
model's columns of FOCUS 1.1 to 1.4 (FOCUS_LATER_COLUMNS: ServiceProviderName, HostProviderName,
ContractApplied, CommitmentDiscountQuantity/Unit, ...) and keeps ProviderName and PublisherName
(deprecated; 1.4 removes them). Rows written before the model had the entity columns get them
here by the same rule normalization uses (focus_entities).
The focus-validator cannot run 1.3 offline: FOCUS13_SCHEMA (pandera) checks the 1.3 dataset.
"""

import pandera.polars as pa
import polars as pl

from finops_assets.domain.focus import (
    CHARGE_CATEGORIES,
    FOCUS_COLUMNS,
    FOCUS_LATER_COLUMNS,
    NORMALIZED_COLUMNS,
    with_later_columns,
)
from finops_assets.domain.focus_later_checks import (
    LATER_COLUMN_CHECKS,
    LATER_FRAME_CHECKS,
    LATER_REQUIRED,
)
from finops_assets.domain.sources.focus_entities import host_provider_expr, service_provider_expr

FOCUS13_COLUMNS: dict[str, pl.DataType] = {**FOCUS_COLUMNS, **FOCUS_LATER_COLUMNS}
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
    *LATER_REQUIRED,
    "ServiceName",
    "ServiceCategory",
)


def focus12_rows(normalized: pl.DataFrame) -> pl.DataFrame:
    """The FOCUS 1.2 dataset: FOCUS columns, then x_ columns, FOCUS types."""
    columns = {**FOCUS_COLUMNS, **X_COLUMNS}
    return normalized.select([pl.col(c).cast(t) for c, t in columns.items()])


def focus13_rows(normalized: pl.DataFrame) -> pl.DataFrame:
    """The FOCUS 1.3 dataset: 1.2's columns plus the model's FOCUS 1.1-1.4 columns."""
    rows = with_later_columns(normalized).with_columns(
        service_provider_expr(), host_provider_expr()
    )
    columns = {**FOCUS13_COLUMNS, **X_COLUMNS}
    return rows.select([pl.col(c).cast(t) for c, t in columns.items()])


def _column(name: str, dtype: pl.DataType) -> pa.Column:
    checks = list(LATER_COLUMN_CHECKS.get(name, ()))
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
        ),
        *LATER_FRAME_CHECKS,
    ],
    strict=True,
    name="focus_1_3",
)
