import csv
import datetime as dt
import gzip
import io
import json
from decimal import Decimal

import polars as pl
import pytest

from finops_assets.domain import focus
from finops_assets.domain.money import to_money
from finops_assets.domain.sources import aws_cur
from finops_assets.domain.sources.common import QUARANTINE_COLUMNS, SourceFormatError

FETCHED = dt.datetime(2024, 1, 2, tzinfo=dt.UTC)
HEADER = (
    "bill_payer_account_id,line_item_usage_account_id,line_item_line_item_type,"
    "line_item_usage_start_date,line_item_usage_end_date,line_item_product_code,"
    "line_item_unblended_cost,line_item_currency_code,savings_plan_savings_plan_a_r_n,"
    "savings_plan_savings_plan_effective_cost,pricing_public_on_demand_cost,resource_tags"
)
SP = "arn:aws:savingsplans::123456789012:savingsplan/abc"
START, END = "2024-01-01T00:00:00Z", "2024-01-01T01:00:00.000Z"


def _line(kind: str, cost: str, start: str = START, sp: str = "", sp_cost: str = "", tags=""):
    return f'1,2,{kind},{start},{END},AmazonEC2,{cost},USD,{sp},{sp_cost},,"{tags}"'


def _parse(data: bytes, name: str = "cur.csv"):
    return aws_cur.parse(
        data, source_file=name, ingestion_key="aws:1:2024-01-01:k", fetched_at=FETCHED
    )


def _csv(*lines: str) -> bytes:
    return ("\n".join([HEADER, *lines]) + "\n").encode()


def test_legacy_koku_cur_parses_with_exact_totals(shared_data):
    path = shared_data / "koku" / "aws" / "test_cur.csv"
    result = _parse(path.read_bytes(), path.name)
    with path.open(newline="") as handle:
        costs = [row["lineItem/UnblendedCost"] for row in csv.DictReader(handle)]
    rows = result.rows
    assert result.quarantine.is_empty()
    assert rows.height == len(costs) == 19
    expected = sum((to_money(c) for c in costs), Decimal(0))
    assert aws_cur.billed_totals(rows).rows() == [("USD", expected)]
    exact = sum((Decimal(c) for c in costs), Decimal(0))
    assert abs(expected - exact) <= Decimal("0.5e-10") * len(costs)
    assert rows["x_source_line"].to_list() == list(range(2, 21))
    assert rows["line_item_usage_start_date"][0] == dt.datetime(2018, 6, 1, tzinfo=dt.UTC)
    assert rows["line_item_product_code"].unique().to_list() == ["AmazonEC2"]
    fo = aws_cur.to_focus(rows)
    assert fo.schema == pl.Schema(focus.SOURCE_FOCUS_COLUMNS)
    assert fo["BilledCost"].sum() == expected
    assert set(fo["SubAccountId"].to_list()) == set(rows["line_item_usage_account_id"].to_list())


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("lineItem/UsageStartDate", "line_item_usage_start_date"),
        ("lineItem/LineItemType", "line_item_line_item_type"),
        ("savingsPlan/SavingsPlanARN", "savings_plan_savings_plan_a_r_n"),
        ("reservation/EffectiveCost", "reservation_effective_cost"),
        ("pricing/publicOnDemandCost", "pricing_public_on_demand_cost"),
        ("product/servicecode", "product_servicecode"),
        ("bill/PayerAccountId", "bill_payer_account_id"),
        ("line_item_unblended_cost", "line_item_unblended_cost"),
    ],
)
def test_legacy_headers_map_to_cur2_names(header, name):
    assert aws_cur.cur2_column_name(header) == name


def test_legacy_resource_tags_become_cur2_json():
    data = (
        b"lineItem/UsageAccountId,lineItem/LineItemType,lineItem/UsageStartDate,"
        b"lineItem/UnblendedCost,lineItem/CurrencyCode,resourceTags/user:CostCenter,"
        b'resourceTags/user:env\n1,Usage,2024-01-01T00:00:00Z,1,USD,pay "x",\n'
    )
    rows = _parse(data).rows
    assert json.loads(rows["resource_tags"][0]) == {"user_CostCenter": 'pay "x"'}
    assert json.loads(aws_cur.to_focus(rows)["Tags"][0]) == {"CostCenter": 'pay "x"'}


def test_bad_amount_bad_date_and_missing_start_are_quarantined_by_line():
    data = _csv(
        _line("Usage", "1.5"),
        _line("Usage", '"12,50"'),
        _line("Usage", "2", start="2024-13-01T00:00:00Z"),
        _line("Usage", "3", start=""),
        _line("Tax", "0.25"),
    )
    result = _parse(gzip.compress(data, mtime=0), "cur.csv.gz")
    assert result.rows["line_item_unblended_cost"].to_list() == [Decimal("1.5"), Decimal("0.25")]
    assert result.rows["x_source_line"].to_list() == [2, 6]
    q = result.quarantine
    assert q.schema == pl.Schema(QUARANTINE_COLUMNS)
    assert q.select("x_source_line", "x_column").rows() == [
        (3, "line_item_unblended_cost"),
        (4, "line_item_usage_start_date"),
        (5, "line_item_usage_start_date"),
    ]
    assert "12,50" in q["x_reason"][0]
    assert "2024-13-01" in q["x_reason"][1]
    assert "missing" in q["x_reason"][2]
    assert q["x_source_file"].unique().to_list() == ["cur.csv.gz"]
    assert json.loads(q["x_raw_record"][0])["line_item_unblended_cost"] == "12,50"


def test_both_cur2_timestamp_forms_parse():
    data = _csv(_line("Usage", "1", start="2024-01-01T00:00:00.000Z"), _line("Usage", "1"))
    rows = _parse(data).rows
    assert (
        rows["line_item_usage_start_date"].to_list() == [dt.datetime(2024, 1, 1, tzinfo=dt.UTC)] * 2
    )
    assert rows["x_charge_date"].to_list() == [dt.date(2024, 1, 1)] * 2


def test_header_only_file_is_empty():
    result = _parse(_csv())
    assert result.rows.is_empty() and result.quarantine.is_empty()
    assert result.rows.schema == pl.Schema(aws_cur.RAW_COLUMNS)
    assert aws_cur.to_focus(result.rows).is_empty()


def test_gcp_export_is_a_format_error_naming_file_and_column(shared_data):
    path = shared_data / "koku" / "gcp" / "2022-08-01_5.csv"
    with pytest.raises(SourceFormatError, match="2022-08-01_5.csv.*line_item_line_item_type"):
        _parse(path.read_bytes(), path.name)


def test_savings_plan_rows_conserve_billed_cost_without_double_counting():
    data = _csv(
        _line("SavingsPlanCoveredUsage", "10", sp=SP, sp_cost="7.2"),
        _line("SavingsPlanNegation", "-10", sp=SP),
        _line("SavingsPlanRecurringFee", "7.2", sp=SP),
        _line("Usage", "1", tags='{""user_cost-center"":""search""}'),
        _line("Tax", "0.5"),
        _line("Credit", "-0.3"),
        _line("Refund", "-0.2"),
        _line("Fee", "29"),
    )
    rows = _parse(data).rows
    fo = aws_cur.to_focus(rows)
    assert fo["ChargeCategory"].to_list() == [
        "Usage", "Usage", "Purchase", "Usage", "Tax", "Credit", "Adjustment", "Purchase",
    ]  # fmt: skip
    assert fo["EffectiveCost"].to_list() == [
        Decimal(v) for v in ["7.2", "0", "0", "1", "0.5", "-0.3", "-0.2", "29"]
    ]
    assert fo["BilledCost"].sum() == aws_cur.billed_totals(rows)["amount"][0] == Decimal("37.2")
    assert fo["CommitmentDiscountId"].to_list()[:3] == [SP] * 3
    assert fo["CommitmentDiscountStatus"].to_list()[:2] == ["Used", None]
    assert fo["CommitmentDiscountType"][0] == "Savings Plan"
    assert fo["ChargeClass"][6] == "Correction"
    assert json.loads(fo["Tags"][3]) == {"cost-center": "search"}
    assert fo["x_source_row_key"].n_unique() == fo.height


def test_parquet_with_double_amounts_and_map_tags(tmp_path):
    table = pl.DataFrame(
        {
            "line_item_usage_account_id": ["1", "1"],
            "line_item_line_item_type": ["Usage", "Usage"],
            "line_item_usage_start_date": [dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 1, 5)],
            "line_item_unblended_cost": [0.1, 1.2e-07],
            "line_item_currency_code": ["USD", "USD"],
            "resource_tags": [
                [{"key": "user_CostCenter", "value": "payments"}],
                [],
            ],
        }
    )
    buffer = io.BytesIO()
    table.write_parquet(buffer)
    result = _parse(buffer.getvalue(), "cur.parquet")
    rows = result.rows
    assert rows["line_item_unblended_cost"].to_list() == [Decimal("0.1"), Decimal("0.00000012")]
    assert rows["x_source_line"].to_list() == [1, 2]
    assert rows["line_item_usage_start_date"][1] == dt.datetime(2024, 1, 1, 5, tzinfo=dt.UTC)
    assert aws_cur.to_focus(rows)["Tags"].to_list() == ['{"CostCenter":"payments"}', "{}"]


@pytest.mark.parametrize("product", ["AWSSupportBusiness", "AWSDeveloperSupport"])
def test_support_fee_is_recurring_usage_keeping_its_effective_cost(product):
    """AWS Support is billed after the fact from the month's usage: it buys nothing for later.

    FOCUS 1.2 asks EffectiveCost 0 only for a Purchase covering future charges, and the
    focus-validator applies that to every Purchase; so support is Usage, Recurring, and its
    EffectiveCost stays its cost (no money leaves the EffectiveCost total).
    """
    support = _line("Fee", "164.63").replace("AmazonEC2", product)
    fo = aws_cur.to_focus(_parse(_csv(support, _line("Fee", "29"))).rows)
    assert fo["ChargeCategory"].to_list() == ["Usage", "Purchase"]
    assert fo["ChargeFrequency"].to_list() == ["Recurring", "One-Time"]
    assert fo["EffectiveCost"].to_list() == [Decimal("164.63"), Decimal("29")]
    assert fo["BilledCost"].sum() == Decimal("193.63")


def test_marketplace_rows_name_their_seller_as_publisher(shared_data):
    """AWS Marketplace rows (bill_billing_entity) are published by their seller of record
    (line_item_legal_entity, e.g. 'Red Hat, Inc.'), as in AWS's own FOCUS export; AWS's rows
    stay 'AWS'. Both columns reach to_focus in x_extra_columns (the raw table keeps them)."""
    path = shared_data / "koku" / "aws" / "2022-07-01-alt-columns.csv"
    result = _parse(path.read_bytes(), path.name)
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    fo = aws_cur.to_focus(result.rows)
    expected = [
        r["line_item_legal_entity"] if r["bill_billing_entity"] == "AWS Marketplace" else "AWS"
        for r in rows
    ]
    assert expected == ["Red Hat, Inc."] * 2
    assert fo["PublisherName"].to_list() == expected
    assert set(fo["ProviderName"].to_list()) == {"AWS"}
    aws = aws_cur.to_focus(_parse(_csv(_line("Usage", "1"))).rows)
    assert aws["PublisherName"].to_list() == ["AWS"]
