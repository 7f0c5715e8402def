"""FOCUS 1.3 split cost allocation rows from allocated_costs parts (pure domain, exact money)."""

import datetime as dt
import json
from decimal import Decimal

import polars as pl
import pytest

from finops_assets.domain.allocate import ALLOCATED_COLUMNS
from finops_assets.domain.focus import NORMALIZED_COLUMNS
from finops_assets.domain.focus_allocation import (
    SPLIT_COLUMNS,
    SUMMABLE_METRICS,
    AllocationOriginError,
    focus_split_rows,
)
from finops_assets.domain.focus_allocation_contract import split_contract_failures

DAY = dt.date(2026, 10, 1)
D = Decimal


def normalized(*rows: dict) -> pl.DataFrame:
    base = {
        "x_charge_date": DAY,
        "ChargeCategory": "Usage",
        "BillingCurrency": "USD",
        "ServiceName": "Compute Engine",
        "Tags": '{"team":"search"}',
        "ListUnitPrice": D("0.5"),
    }
    frame = pl.DataFrame([{**base, **r} for r in rows])
    missing = [
        pl.lit(None).cast(t).alias(c)
        for c, t in NORMALIZED_COLUMNS.items()
        if c not in frame.columns
    ]
    return frame.with_columns(missing).select(
        [pl.col(c).cast(t) for c, t in NORMALIZED_COLUMNS.items()]
    )


def parts(*rows: tuple) -> pl.DataFrame:
    """(origin key, unit, billed, effective, share, method, rule) per part."""
    records = [
        {
            "x_charge_date": DAY,
            "x_source_row_key": key,
            "x_business_unit": unit,
            "x_allocation_row_key": f"{key}|{unit}",
            "BilledCost": D(billed),
            "EffectiveCost": D(effective),
            "x_allocation_share": D(share),
            "x_allocation_method": method,
            "x_allocation_rule_id": rule,
            "x_allocation_rule_version": "v1",
            "x_allocation_driver": "effective_cost" if method == "proportional" else None,
            "AllocatedMethodId": rule,
        }
        for key, unit, billed, effective, share, method, rule in rows
    ]
    frame = pl.DataFrame(records)
    missing = [
        pl.lit(None).cast(t).alias(c)
        for c, t in ALLOCATED_COLUMNS.items()
        if c not in frame.columns
    ]
    return frame.with_columns(missing).select(
        [pl.col(c).cast(t) for c, t in ALLOCATED_COLUMNS.items()]
    )


ORIGINS = normalized(
    {
        "x_source_row_key": "a",
        "BilledCost": D("10.00"),
        "EffectiveCost": D("9.00"),
        "ListCost": D("12.0000000001"),
        "ContractedCost": D("10.00"),
        "ConsumedQuantity": D("7"),
        "PricingQuantity": D("7"),
        "CommitmentDiscountQuantity": D("1"),
        "CommitmentDiscountUnit": "Hour",
        "PricingCurrencyEffectiveCost": D("8.1000000001"),
        "ServiceProviderName": "Google Cloud",
        "HostProviderName": "Google Cloud",
        "ContractApplied": '{"Elements":[{"ContractId":"C-1"}]}',
    },
    {"x_source_row_key": "b", "BilledCost": D("3.00"), "EffectiveCost": D("3.00")},
)
PARTS = parts(
    ("a", "payments", "3.33", "3.00", "0.333333333333333333", "proportional", "shared-platform"),
    ("a", "search", "3.33", "3.00", "0.333333333333333333", "proportional", "shared-platform"),
    ("a", "unallocated", "3.34", "3.00", "0.333333333333333334", "proportional", "shared-platform"),
    ("b", "search", "3.00", "3.00", "1", "tag", "tag:team"),
)


def test_split_rows_sum_to_their_origin_and_keep_its_columns():
    split = focus_split_rows(ORIGINS, PARTS)
    assert split.columns == list(SPLIT_COLUMNS)
    for metric in SUMMABLE_METRICS:
        sums = split.group_by("x_source_row_key").agg(pl.col(metric).sum()).sort("x_source_row_key")
        expected = ORIGINS.sort("x_source_row_key")[metric].fill_null(D(0)).to_list()
        assert sums[metric].to_list() == expected, metric
    a = split.filter(pl.col("x_source_row_key") == "a")
    assert a["ListCost"].sum() == D("12.0000000001")
    assert a["ConsumedQuantity"].sum() == D("7")
    assert a["CommitmentDiscountQuantity"].sum() == D("1")
    assert a["PricingCurrencyEffectiveCost"].sum() == D("8.1000000001")
    assert set(a["ServiceProviderName"]) == {"Google Cloud"}
    assert set(a["ContractApplied"]) == {'{"Elements":[{"ContractId":"C-1"}]}'}
    assert split["Tags"].to_list() == ['{"team":"search"}'] * 4
    assert split["ListUnitPrice"].to_list() == [D("0.5")] * 4
    assert split.filter(pl.col("x_source_row_key") == "b")["ListCost"].to_list() == [None]
    assert split_contract_failures(split, ORIGINS) == []


def test_allocated_columns_follow_focus_1_3():
    split = focus_split_rows(ORIGINS, PARTS).sort("x_allocation_row_key")
    assert split["AllocatedResourceName"].to_list() == ["payments", "search", None, "search"]
    assert split["AllocatedResourceId"].to_list()[2] is None
    assert split["AllocatedMethodId"].to_list() == ["shared-platform"] * 3 + ["tag:team"]
    details = [json.loads(d, parse_float=Decimal) for d in split["AllocatedMethodDetails"]]
    ratios = [d["Elements"][0]["AllocatedRatio"] for d in details[:3]]
    assert sum(ratios) == 1
    assert all(k.startswith("x_") for d in details for k in d if k != "Elements")
    assert json.loads(split["AllocatedTags"][0]) == {"x_BusinessUnit": "payments"}


def test_a_part_without_its_origin_is_an_error_naming_it():
    with pytest.raises(AllocationOriginError, match="'c'"):
        focus_split_rows(ORIGINS, pl.concat([PARTS, parts(("c", "x", "1", "1", "1", "tag", "t"))]))


def _broken(split: pl.DataFrame, **changes: pl.Expr) -> list[str]:
    return sorted(
        {f["check"] for f in split_contract_failures(split.with_columns(**changes), ORIGINS)}
    )


@pytest.mark.parametrize(
    ("change", "check"),
    [
        ({"BilledCost": pl.col("BilledCost") + D("0.01")}, "summable_metrics_sum_to_origin"),
        ({"ListCost": pl.col("ListCost") * 2}, "summable_metrics_sum_to_origin"),
        ({"ServiceName": pl.lit("Other")}, "dimensions_equal_origin"),
        ({"Tags": pl.lit("{}")}, "dimensions_equal_origin"),
        (
            {"AllocatedMethodDetails": pl.lit('{"Elements":[{"AllocatedRatio":0.5}]}')},
            "ratios_sum_to_one",
        ),
        ({"AllocatedMethodDetails": pl.lit("not json")}, "method_details_json"),
        ({"AllocatedResourceId": pl.lit("business-unit/x")}, "remainder_has_no_resource"),
        ({"AllocatedTags": pl.lit('{"team":"x"}')}, "allocated_tags_not_in_tags"),
    ],
)
def test_each_contract_condition_fails_when_broken(change, check):
    split = focus_split_rows(ORIGINS, PARTS)
    assert check in _broken(split, **change)
