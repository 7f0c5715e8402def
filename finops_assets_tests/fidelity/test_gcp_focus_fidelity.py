"""Our GCP FOCUS rows against Google's own FOCUS view of the same public billing export rows.

Google's view (google_focus_view.py, source cited there) folds each row's credits into its
BilledCost and EffectiveCost; we write each credit as its own Credit row. So our rows are summed
per export row for those two columns and compared with the view's one row; every other column
is our export row's own value. Every column that differs is listed in ACCEPTED with its reason
(README "FOCUS fidelity: GCP" shows the same list); the test fails on any other difference and
on an accepted difference that no longer occurs.
"""

import csv
import datetime as dt

import polars as pl
import pytest

from finops_assets.domain.sources import gcp_billing_export as gcp
from finops_assets_tests.fidelity import google_focus_view as view
from finops_assets_tests.fidelity.compare import differing_columns, normalized_rows, rows_of

FILES = (
    "2022-08-01_5.csv",
    "2024-03-01_5.csv",
    "202011_30c31bca571d9b7f3b2c8459dd8bc34a_2020-11-08_2020-11-11.csv",
)
ACCEPTED = {
    "BillingPeriodStart": "The view starts the invoice month at midnight Los Angeles time; we "
    "start it at midnight UTC, the time every other source and our daily partitions use.",
    "BillingPeriodEnd": "The view ends the period on the month's last day (an inclusive date); "
    "FOCUS asks for the exclusive end, the next month's first instant.",
    "ChargeCategory": "The view writes the FOCUS 1.0-preview lowercase 'usage'; FOCUS 1.0 to "
    "1.3 and the focus-validator ask for 'Usage'.",
    "PricingCategory": "Same casing: the view's 'standard', FOCUS's 'Standard'.",
    "ListCost": "The view takes cost_at_list, absent from these exports (null); FOCUS 1.2 "
    "needs a ListCost on every row, so we use cost when cost_at_list is absent.",
    "PricingQuantity": "The view reads price.pricing_unit_quantity, absent from these exports; "
    "we use usage.amount_in_pricing_units, the same quantity in the same pricing unit.",
    "PricingUnit": "Likewise: the view reads price.unit; we use usage.pricing_unit.",
    "PublisherName": "The view gives 'Google Cloud' only when transaction_type is GOOGLE, a "
    "column these older exports lack, so it is null; FOCUS needs a PublisherName, and a row "
    "without seller_name is Google's own.",
    "ServiceCategory": "The view takes product_taxonomy from Google's pricing export, which no "
    "public file holds (null); we map the service through our catalog (Compute Engine: Compute).",
    "SubAccountId": "The view repeats the billing account id; we use the project id, the "
    "sub-account our allocation, budgets and FOCUS SubAccountName (project name) refer to.",
}


def _ours(path) -> list[dict[str, object]]:
    """Our normalized rows, one per export row (credits summed into BilledCost/EffectiveCost)."""
    fetched = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    result = gcp.parse(
        path.read_bytes(), source_file=path.name, ingestion_key="k", fetched_at=fetched
    )
    assert result.quarantine.is_empty()
    rows = normalized_rows(gcp.to_focus(result.rows)).with_columns(
        pl.col("x_source_row_key").str.replace(r":credit:\d+$", "").alias("__row"),
        pl.col("x_source_row_key").str.contains(":credit:").alias("__credit"),
    )
    sums = rows.group_by("__row").agg(
        pl.col("BilledCost").sum().alias("__billed"), pl.col("EffectiveCost").sum().alias("__eff")
    )
    main = (
        rows.filter(~pl.col("__credit"))
        .join(sums, on="__row")
        .with_columns(
            pl.col("__billed").alias("BilledCost"),
            pl.col("__eff").alias("EffectiveCost"),
            pl.col("__row").str.extract(r":(\d+)$").cast(pl.Int64).alias("__line"),
        )
        .sort("__line")
    )
    return rows_of(main)


def _google(path) -> list[dict[str, object]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [view.focus_row(row) for row in csv.DictReader(handle)]


@pytest.fixture(scope="module")
def differences(shared_data):
    ours, theirs = [], []
    for name in FILES:
        path = shared_data / "koku" / "gcp" / name
        ours += _ours(path)
        theirs += _google(path)
    assert len(ours) == 40
    return differing_columns(ours, theirs, list(theirs[0])), ours, theirs


def test_only_the_accepted_columns_differ_from_googles_view(differences):
    diffs, _, _ = differences
    assert set(diffs) == set(ACCEPTED), {c: v[:2] for c, v in diffs.items() if c not in ACCEPTED}


def test_costs_agree_with_credits_folded_in(differences):
    """BilledCost and EffectiveCost agree row by row, FreeTrial credits included."""
    diffs, ours, theirs = differences
    assert "BilledCost" not in diffs and "EffectiveCost" not in diffs
    assert sum(r["BilledCost"] for r in ours) == sum(r["BilledCost"] for r in theirs)
    assert any(t["BilledCost"] != t["ContractedCost"] for t in theirs)  # credits present


def test_region_names_are_googles(differences):
    _, ours, _ = differences
    assert {r["RegionName"] for r in ours if r["RegionId"]} == {"Iowa"}


def test_readme_lists_every_accepted_difference():
    from finops_assets_tests.fidelity.readme import fidelity_section

    section = fidelity_section("GCP")
    for column in ACCEPTED:
        assert f"| {column} |" in section, column


def test_focus_1_1_and_1_2_columns_are_compared_and_null_as_in_googles_view(differences):
    """Google's view selects none of the FOCUS 1.1-1.2 columns (CapacityReservation*,
    CommitmentDiscountQuantity/Unit, SkuMeter, SkuPriceDetails, PricingCurrency* amounts): our
    rows leave them null too, column by column on the 40 rows."""
    diffs, ours, theirs = differences
    for column in view.LATER_COLUMNS:
        assert column in theirs[0] and column not in diffs, column
        assert {r[column] for r in ours} == {None}, column
