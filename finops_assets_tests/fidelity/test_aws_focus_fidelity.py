"""Our CUR rows against AWS's own FOCUS 1.2 export of the same public CUR rows.

AWS's conversion is re-stated in aws_focus_export.py from AWS's documentation and AWS's own
FOCUS rows (sources cited there). Our rows are taken after normalization (units, catalog, FOCUS
nullability) and compared column by column, amounts at our money scale (10 decimal places).
Every column that differs on some row is listed in ACCEPTED with its reason (README "FOCUS
fidelity: AWS" shows the same list); the test fails on any other difference and on an accepted
difference that no longer occurs.
"""

import csv
import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from finops_assets.domain.sources import aws_cur
from finops_assets_tests.fidelity import aws_focus_export as aws
from finops_assets_tests.fidelity.compare import differing_columns, normalized_rows, rows_of

FILES = ("test_cur.csv", "2022-07-01-alt-columns.csv")  # legacy CUR (19 rows), CUR 2.0 (2)
ACCEPTED = {
    "InvoiceIssuerName": "AWS writes the invoicing legal entity (bill_invoicing_entity, "
    "'Amazon Web Services, Inc.'); the legacy file has no such column. We write 'AWS', like "
    "ProviderName: the focus-validator's BilledCost-C-005-C reads an issuer that differs from "
    "the provider as a third party and then asks BilledCost 0.",
    "PublisherName": "AWS writes line_item_legal_entity, which the legacy file lacks; without it "
    "we write 'AWS' (FOCUS needs a publisher). With it (the CUR 2.0 rows) we agree.",
    "ServiceName": "Our catalog names a row by its product_servicecode: EC2 data transfer "
    "(AWSDataTransfer) is 'AWS Data Transfer', one service across products; AWS keeps the "
    "product's name ('Amazon Elastic Compute Cloud').",
    "ServiceCategory": "Follows ServiceName: 'Networking' for data transfer, where AWS files "
    "EC2's data transfer under 'Compute'.",
}


def _ours(path) -> list[dict[str, object]]:
    fetched = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    result = aws_cur.parse(
        path.read_bytes(), source_file=path.name, ingestion_key="k", fetched_at=fetched
    )
    assert result.quarantine.is_empty()
    rows = normalized_rows(aws_cur.to_focus(result.rows))
    line = pl.col("x_source_row_key").str.extract(r":(\d+)$").cast(pl.Int64)
    return rows_of(rows.with_columns(line.alias("__line")).sort("__line"))


def _aws(path) -> list[dict[str, object]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [aws.focus_row(row) for row in csv.DictReader(handle)]


@pytest.fixture(scope="module")
def differences(shared_data):
    ours, theirs = [], []
    for name in FILES:
        path = shared_data / "koku" / "aws" / name
        ours += _ours(path)
        theirs += _aws(path)
    assert len(ours) == 21
    return differing_columns(ours, theirs, list(theirs[0])), ours, theirs


def test_only_the_accepted_columns_differ_from_aws_export(differences):
    diffs, _, _ = differences
    assert set(diffs) == set(ACCEPTED), {c: v[:2] for c, v in diffs.items() if c not in ACCEPTED}


def test_region_publisher_and_price_id_agree_where_the_file_states_them(differences):
    """Legacy rows: region code from the location name, RegionName the location. CUR 2.0
    (Marketplace) rows: the seller as publisher, the region, the rate code as SkuPriceId."""
    _, ours, theirs = differences
    legacy, cur2 = slice(0, 19), slice(19, 21)
    for mine, aws_row in zip(ours[legacy], theirs[legacy], strict=True):
        for column in ("RegionId", "RegionName"):
            assert mine[column] == aws_row[column] is not None, column
    for mine, aws_row in zip(ours[cur2], theirs[cur2], strict=True):
        for column in ("PublisherName", "RegionId", "SkuPriceId"):
            assert mine[column] == aws_row[column] is not None, column


def test_readme_lists_every_accepted_difference():
    from finops_assets_tests.fidelity.readme import fidelity_section

    section = fidelity_section("AWS")
    for column in ACCEPTED:
        assert f"| {column} |" in section, column


def test_aws_own_rows_name_their_legal_entity_as_publisher():
    """AWS's FOCUS rows name the selling legal entity as PublisherName on every row (the FOCUS
    sample's AWS rows: 'Amazon Web Services, Inc.', '... EMEA SARL'), not only on Marketplace."""
    header = (
        "bill_payer_account_id,line_item_usage_account_id,line_item_line_item_type,"
        "line_item_usage_start_date,line_item_unblended_cost,line_item_currency_code,"
        "line_item_legal_entity,bill_billing_entity"
    )
    lines = [
        "1,2,Usage,2024-01-01T00:00:00Z,1,EUR,Amazon Web Services EMEA SARL,AWS",
        "1,2,Usage,2024-01-01T00:00:00Z,1,EUR,,AWS",
    ]
    data = ("\n".join([header, *lines]) + "\n").encode()
    fetched = dt.datetime(2024, 1, 2, tzinfo=dt.UTC)
    raw = aws_cur.parse(data, source_file="cur.csv", ingestion_key="k", fetched_at=fetched).rows
    publishers = aws_cur.to_focus(raw)["PublisherName"].to_list()
    assert publishers == ["Amazon Web Services EMEA SARL", "AWS"]


def _cur2(lines: list[str]) -> pl.DataFrame:
    header = ",".join(_cur2_header())
    data = ("\n".join([header, *lines]) + "\n").encode()
    fetched = dt.datetime(2024, 1, 2, tzinfo=dt.UTC)
    return aws_cur.parse(data, source_file="cur.csv", ingestion_key="k", fetched_at=fetched).rows


def test_capacity_reservation_and_pricing_currency_columns_as_aws_states_them():
    """CUR 2.0 capacity reservation columns and pricing_currency -> the FOCUS 1.2 columns, as
    aws_focus_export.later_columns states AWS's export; a pricing currency other than the billing
    currency leaves the PricingCurrency* amounts null (the CUR has no amounts in it)."""
    arn = "arn:aws:ec2:us-east-1:1:capacity-reservation/cr-1"
    lines = [
        f"1,2,Usage,2024-01-01T00:00:00Z,1.5,USD,USE1-UnusedBox:m5.large,USD,0.096,{arn},Unused",
        f"1,2,Usage,2024-01-01T00:00:00Z,0.5,USD,USE1-Reservation:m5.large,USD,0.096,{arn},Used",
        f"1,2,Usage,2024-01-01T00:00:00Z,2,EUR,EUC1-BoxUsage:m5.large,USD,0.1,{arn},Reserved",
    ]
    ours = rows_of(aws_cur.to_focus(_cur2(lines)))
    with_header = [dict(zip(_cur2_header(), line.split(","), strict=True)) for line in lines]
    theirs = [aws.later_columns(row) for row in with_header]
    assert differing_columns(ours, theirs, list(theirs[0])) == {}
    assert [r["CapacityReservationStatus"] for r in ours] == ["Unused", "Used", None]
    assert [r["PricingCurrencyEffectiveCost"] for r in ours][2] is None
    assert ours[0]["SkuMeter"] == "USE1-UnusedBox:m5.large"


def _cur2_header() -> list[str]:
    return [
        "bill_payer_account_id",
        "line_item_usage_account_id",
        "line_item_line_item_type",
        "line_item_usage_start_date",
        "line_item_unblended_cost",
        "line_item_currency_code",
        "line_item_usage_type",
        "pricing_currency",
        "pricing_public_on_demand_rate",
        "capacity_reservation_capacity_reservation_arn",
        "capacity_reservation_capacity_reservation_status",
    ]


def test_covered_usage_carries_its_commitment_quantity_as_the_focus_examples_show():
    """AWS states no rule for CommitmentDiscountQuantity; the FOCUS working group's AWS Savings
    Plan example rows (public_data/focus-spec-examples, aws_savings_plan_*.csv) give covered
    usage its effective cost in USD (Spend), its Azure reservation example the covered hours
    (Usage). A CUR's covered rows get the same; other rows none."""
    header = (
        "bill_payer_account_id,line_item_usage_account_id,line_item_line_item_type,"
        "line_item_usage_start_date,line_item_unblended_cost,line_item_currency_code,"
        "line_item_usage_amount,pricing_unit,savings_plan_savings_plan_a_r_n,"
        "savings_plan_savings_plan_effective_cost,reservation_reservation_a_r_n,"
        "reservation_effective_cost"
    )
    sp, ri = "arn:aws:savingsplans::1:savingsplan/sp-1", "arn:aws:ec2:us-east-1:1:reserved/ri-1"
    lines = [
        f"1,2,SavingsPlanCoveredUsage,2024-01-01T00:00:00Z,0.096,USD,1,Hrs,{sp},79.11,,",
        f"1,2,DiscountedUsage,2024-01-01T00:00:00Z,0,USD,3,Hrs,,,{ri},0.12",
        f"1,2,SavingsPlanNegation,2024-01-01T00:00:00Z,-0.096,USD,1,Hrs,{sp},,,",
        "1,2,Usage,2024-01-01T00:00:00Z,0.096,USD,1,Hrs,,,,",
    ]
    data = ("\n".join([header, *lines]) + "\n").encode()
    fetched = dt.datetime(2024, 1, 2, tzinfo=dt.UTC)
    raw = aws_cur.parse(data, source_file="cur.csv", ingestion_key="k", fetched_at=fetched).rows
    rows = normalized_rows(aws_cur.to_focus(raw)).sort("x_source_row_key")
    quantities = rows.select("CommitmentDiscountQuantity", "CommitmentDiscountUnit").rows()
    assert [(q if q is None else q.normalize(), u) for q, u in quantities] == [
        (Decimal("79.11"), "USD"),
        (Decimal(3), "Hours"),
        (None, None),
        (None, None),
    ]
