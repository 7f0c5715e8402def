import datetime as dt
import json
from decimal import Decimal

import polars as pl
import pytest

from finops_assets.domain import focus
from finops_assets.domain.money import to_money
from finops_assets.domain.sources import aws_cost_explorer as ce
from finops_assets.domain.sources.common import QUARANTINE_COLUMNS, SourceFormatError

FETCHED = dt.datetime(2024, 3, 2, tzinfo=dt.UTC)
CE_DIR = "aws-cost-explorer"
CLI_SAMPLE = "aws-cli_get-cost-and-usage_groupby-SERVICE-and-TAG_example-output.json"
MONTHLY_SAMPLE = "cloudscape_get-cost-and-usage_groupby-SERVICE_monthly_2023-04_to_2023-10.json"


def _parse(data: bytes, name: str = "page-0001.json"):
    return ce.parse(data, source_file=name, ingestion_key="aws:x:2024-03-01:k", fetched_at=FETCHED)


def _metric(amount: str, unit: str = "USD") -> dict:
    return {"Amount": amount, "Unit": unit}


def _page(groups: list, definitions: list[tuple[str, str]], start: str = "2024-03-01") -> bytes:
    return json.dumps(
        {
            "GroupDefinitions": [{"Type": t, "Key": k} for t, k in definitions],
            "ResultsByTime": [
                {
                    "TimePeriod": {"Start": start, "End": "2024-03-02"},
                    "Total": {},
                    "Groups": [
                        {"Keys": keys, "Metrics": {"UnblendedCost": _metric(amount)}}
                        for keys, amount in groups
                    ],
                    "Estimated": True,
                }
            ],
        }
    ).encode()


def test_cli_sample_parses_tags_and_exact_amounts(shared_data):
    result = _parse((shared_data / CE_DIR / CLI_SAMPLE).read_bytes())
    rows = result.rows
    assert result.quarantine.is_empty()
    assert rows.schema == pl.Schema(ce.RAW_COLUMNS)
    assert rows["unblended_cost_amount"].to_list() == [
        Decimal("40.3543773134"),
        Decimal("0.2682364644"),
    ]
    assert rows["usage_quantity_amount"][0] == Decimal("9312771.0984615780")
    assert rows["group_definition_2"].to_list() == ["TAG:Environment"] * 2
    assert rows["x_charge_date"].to_list() == [dt.date(2017, 9, 1)] * 2
    fo = ce.to_focus(rows)
    assert fo["Tags"].to_list() == ["{}", '{"Environment":"Dev"}']  # 'Environment$' = untagged
    assert fo["ServiceName"].to_list() == ["Amazon Simple Storage Service"] * 2
    assert fo["BillingPeriodEnd"][0] == dt.datetime(2017, 10, 1, tzinfo=dt.UTC)


def test_monthly_sample_totals_match_a_decimal_sum(shared_data):
    data = (shared_data / CE_DIR / MONTHLY_SAMPLE).read_bytes()
    page = json.loads(data)
    expected = sum(
        (
            to_money(g["Metrics"]["UnblendedCost"]["Amount"])
            for r in page["ResultsByTime"]
            for g in r["Groups"]
        ),
        Decimal(0),
    )
    rows = _parse(data).rows
    assert rows.height == 160
    assert ce.billed_totals(rows).rows() == [("USD", expected)]
    fo = ce.to_focus(rows)
    assert fo["BilledCost"].sum() == expected
    assert fo["EffectiveCost"].sum() == expected  # AmortizedCost absent -> UnblendedCost
    assert fo["x_charge_date"].unique().len() == 6


def test_page_without_groups_uses_the_total():
    page = {
        "ResultsByTime": [
            {
                "TimePeriod": {"Start": "2024-03-01", "End": "2024-03-02"},
                "Total": {"UnblendedCost": _metric("12.5"), "AmortizedCost": _metric("10")},
                "Groups": [],
                "Estimated": False,
            },
            {"TimePeriod": {"Start": "2024-03-02", "End": "2024-03-03"}, "Total": {}},
        ]
    }
    rows = _parse(json.dumps(page).encode()).rows
    assert rows.height == 1
    assert rows["group_key_1"][0] is None
    fo = ce.to_focus(rows)
    assert fo.select("BilledCost", "EffectiveCost", "ChargeCategory").row(0) == (
        Decimal("12.5"),
        Decimal("10"),
        "Usage",
    )


def test_bad_amount_and_bad_date_are_quarantined_and_good_rows_kept():
    good = _page([(["AWS Lambda"], "1.25"), (["Tax"], "oops"), (["Amazon S3"], "2")], [])
    bad_day = _page([(["AWS Lambda"], "3")], [], start="2024-02-30")
    page = json.loads(good)
    page["ResultsByTime"] += json.loads(bad_day)["ResultsByTime"]
    page["GroupDefinitions"] = [{"Type": "DIMENSION", "Key": "SERVICE"}]
    result = _parse(json.dumps(page).encode(), "p.json")
    assert result.rows["unblended_cost_amount"].to_list() == [Decimal("1.25"), Decimal("2")]
    q = result.quarantine
    assert q.schema == pl.Schema(QUARANTINE_COLUMNS)
    assert q.select("x_source_line", "x_column").rows() == [
        (2, "Metrics.UnblendedCost.Amount"),
        (4, "TimePeriod.Start"),
    ]
    assert "oops" in q["x_reason"][0] and "2024-02-30" in q["x_reason"][1]
    assert q["x_source_file"].to_list() == ["p.json"] * 2
    assert q["x_amount"][0] == "oops"


@pytest.mark.parametrize(
    ("record_type", "category", "charge_class"),
    [
        ("Usage", "Usage", None),
        ("Tax", "Tax", None),
        ("Credit", "Credit", None),
        ("Refund", "Adjustment", "Correction"),
        ("Recurring reservation fee", "Purchase", None),
        ("Support", "Usage", None),  # billed from the month's usage, covers nothing later
    ],
)
def test_charge_category_follows_record_type(record_type, category, charge_class):
    definitions = [("DIMENSION", "LINKED_ACCOUNT"), ("DIMENSION", "RECORD_TYPE")]
    rows = _parse(_page([(["111122223333", record_type], "-1.5")], definitions)).rows
    fo = ce.to_focus(rows)
    assert fo.select("ChargeCategory", "ChargeClass", "SubAccountId").row(0) == (
        category,
        charge_class,
        "111122223333",
    )


def test_support_is_recurring_usage_keeping_its_effective_cost():
    definitions = [("DIMENSION", "LINKED_ACCOUNT"), ("DIMENSION", "RECORD_TYPE")]
    rows = _parse(_page([(["111122223333", "Support"], "100")], definitions)).rows
    fo = ce.to_focus(rows)
    assert fo.select("ChargeCategory", "ChargeFrequency").row(0) == ("Usage", "Recurring")
    assert fo["EffectiveCost"][0] == fo["BilledCost"][0] != 0


def test_service_tax_is_a_tax_row_and_schema_is_exact():
    rows = _parse(_page([(["Tax"], "3"), (["AWS Lambda"], "1")], [("DIMENSION", "SERVICE")])).rows
    fo = ce.to_focus(rows)
    assert fo.schema == pl.Schema(focus.SOURCE_FOCUS_COLUMNS)
    assert fo["ChargeCategory"].to_list() == ["Tax", "Usage"]
    assert fo["x_source_row_key"].n_unique() == 2
    assert rows["estimated"].to_list() == [True, True]


def test_empty_results_are_an_empty_frame():
    result = _parse(b'{"ResultsByTime": [], "GroupDefinitions": []}')
    assert result.rows.is_empty() and result.quarantine.is_empty()
    assert ce.to_focus(result.rows).schema == pl.Schema(focus.SOURCE_FOCUS_COLUMNS)


def test_other_documents_are_format_errors(shared_data):
    azure = shared_data / "azure-cost-management-query" / "BillingAccountQuery.json"
    with pytest.raises(SourceFormatError, match="BillingAccountQuery.json.*ResultsByTime"):
        _parse(azure.read_bytes(), azure.name)
    with pytest.raises(SourceFormatError, match="broken.json"):
        _parse(b"{not json", "broken.json")
