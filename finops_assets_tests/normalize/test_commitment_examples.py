"""The FOCUS specification's commitment-discount examples come out of normalization as the spec shows.

Purchases carry their cost in BilledCost and 0 in EffectiveCost; the covered usage carries the
amortized cost in EffectiveCost and 0 in BilledCost; unused commitment is its own row. So summing
EffectiveCost counts a commitment once, and BilledCost still equals what was invoiced.
"""

from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from finops_assets.conformance.external import normalize_focus_file
from finops_assets.domain.normalize import gross_net_summary

EXAMPLES = "focus-spec-examples/commitment_discount_scenarios_index"
SAME_AS_SPEC = [
    "ChargePeriodStart",
    "ChargeCategory",
    "ChargeClass",
    "ChargeFrequency",
    "BilledCost",
    "EffectiveCost",
    "ListCost",
    "ContractedCost",
    "PricingCategory",
    "PricingQuantity",
    "ConsumedQuantity",
    "CommitmentDiscountId",
    "CommitmentDiscountCategory",
    "CommitmentDiscountStatus",
    "CommitmentDiscountType",
]
NAMES = [
    "aws_savings_plan_all_upfront_50pct.csv",
    "aws_savings_plan_partial_upfront_100pct.csv",
    "azure_reservation_all_upfront_100pct.csv",
    "gcp_flex_cud_partial_upfront_100pct.csv",
]


def _spec(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema=False).with_columns(pl.all().replace("", None))


def _as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Columns compared as values: money as normalized Decimals, timestamps as RFC 3339."""
    out = []
    for column in SAME_AS_SPEC:
        series = frame[column]
        if series.dtype == pl.Utf8 and column.endswith(("Cost", "Quantity")):
            series = series.map_elements(lambda v: str(Decimal(v).normalize()), pl.Utf8)
        elif isinstance(series.dtype, pl.Decimal):
            series = series.map_elements(lambda v: str(v.normalize()), pl.Utf8)
        elif isinstance(series.dtype, pl.Datetime):
            series = series.dt.to_string("%Y-%m-%dT%H:%M:%SZ")
        out.append(series.alias(column))
    return pl.DataFrame(out).sort(SAME_AS_SPEC, nulls_last=True)


@pytest.mark.parametrize("name", NAMES)
def test_example_normalizes_to_the_spec_rows(shared_data, name):
    path = shared_data / EXAMPLES / name
    rows, quarantined = normalize_focus_file(path)
    spec = _spec(path)
    assert quarantined == 0 and rows.height == spec.height
    assert _as_text(rows).to_dicts() == _as_text(spec).to_dicts()


@pytest.mark.parametrize("name", NAMES)
def test_effective_cost_counts_each_commitment_once(shared_data, name):
    rows, _ = normalize_focus_file(shared_data / EXAMPLES / name)
    purchases = rows.filter(pl.col("ChargeCategory") == "Purchase")
    usage = rows.filter(pl.col("ChargeCategory") == "Usage")
    assert purchases.height >= 1 and (purchases["EffectiveCost"] == 0).all()
    assert (usage.filter(pl.col("CommitmentDiscountId").is_not_null())["BilledCost"] == 0).all()
    billed = gross_net_summary(rows).row(0, named=True)
    assert billed["purchase_gross"] == purchases["BilledCost"].sum()
    assert billed["billed"] == purchases["BilledCost"].sum() + usage["BilledCost"].sum()
    assert rows["EffectiveCost"].sum() == usage["EffectiveCost"].sum()
