"""Azure Cost Management Query API source: real examples, exact JSON numbers, quarantine, FOCUS."""

import datetime as dt
import json
from decimal import Decimal

import polars as pl
import pytest

from finops_assets.domain.focus import SOURCE_FOCUS_COLUMNS
from finops_assets.domain.money import to_money
from finops_assets.domain.sources import azure_cost as azure
from finops_assets.domain.sources.common import QUARANTINE_COLUMNS, SourceFormatError

FETCHED = dt.datetime(2024, 10, 2, 6, tzinfo=dt.UTC)
COLUMNS = ["PreTaxCost", "UsageDate", "Currency", "SubscriptionId", "ChargeType", "Tags"]


def _page(rows: list[str], columns: list[str] = COLUMNS) -> bytes:
    """A page whose rows are raw JSON text, so numbers are written exactly as given."""
    cols = json.dumps([{"name": c, "type": "String"} for c in columns])
    body = ",".join(rows)
    return (
        '{"id": "providers/Microsoft.Billing/billingAccounts/8611537/providers/'
        'Microsoft.CostManagement/query/q1", "name": "q1", "type": "Microsoft.CostManagement/query",'
        f' "properties": {{"nextLink": null, "columns": {cols}, "rows": [{body}]}}}}'
    ).encode()


def _parse(data: bytes, name: str = "page-0001.json") -> azure.ParseResult:
    return azure.parse(data, source_file=name, ingestion_key="az:k", fetched_at=FETCHED)


@pytest.mark.parametrize(
    "name,rows",
    [
        ("BillingAccountQuery.json", 4),
        ("BillingAccountQueryGrouping.json", 3),
        ("MCABillingProfileQueryGrouping.json", 3),
    ],
)
def test_shared_examples_parse_exactly(shared_data, name, rows):
    data = (shared_data / "azure-cost-management-query" / name).read_bytes()
    result = _parse(data, name)
    assert result.rows.height == rows and result.quarantine.height == 0
    body = json.loads(data, parse_float=Decimal)["responses"]["200"]["body"]
    reference = sum((to_money(r[0]) for r in body["properties"]["rows"]), Decimal(0))
    assert azure.billed_totals(result.rows).to_dicts() == [{"currency": "USD", "amount": reference}]
    focus = azure.to_focus(result.rows)
    assert focus["BilledCost"].sum() == reference
    assert focus["BillingAccountId"].n_unique() == 1


def test_usage_date_number_from_example(shared_data):
    data = (shared_data / "azure-cost-management-query" / "BillingAccountQuery.json").read_bytes()
    raw = _parse(data).rows
    assert raw["usage_date"].unique().to_list() == [dt.date(2018, 3, 31)]
    assert raw["resource_group"][0] == "JapanUnifia-Trial"


def test_json_numbers_never_pass_through_float():
    rows = [
        '[0.1, 20241001, "JPY", "sub", "Usage", []]',
        '[0.2, 20241001, "JPY", "sub", "Usage", []]',
        '[12345678901234567, "2024-10-01T00:00:00", "JPY", "sub", "Usage", []]',
        '[19.545363672276512, 20241001, "JPY", "sub", "Usage", []]',
    ]
    raw = _parse(_page(rows)).rows
    assert raw["cost"].to_list()[:2] == [Decimal("0.1"), Decimal("0.2")]
    assert raw["cost"][2] == Decimal("12345678901234567")
    assert raw["cost"][3] == Decimal("19.5453636723")
    assert raw["cost"].head(2).sum() == Decimal("0.3")
    expected = Decimal("12345678901234567.3") + Decimal("19.5453636723")
    assert azure.billed_totals(raw)["amount"].to_list() == [expected]
    assert azure.to_focus(raw)["BilledCost"].sum() == expected
    assert raw["usage_date"].unique().to_list() == [dt.date(2024, 10, 1)]


def test_tags_as_array_of_pairs_or_object():
    rows = [
        '[1, 20241001, "JPY", "s", "Usage", ["\\"CostCenter\\":\\"web\\"", "\\"env\\":\\"prod\\""]]',
        '[1, 20241001, "JPY", "s", "Usage", {"cost-center": "web"}]',
        '[1, 20241001, "JPY", "s", "Usage", []]',
    ]
    focus = azure.to_focus(_parse(_page(rows)).rows)
    assert focus["Tags"].to_list() == [
        '{"CostCenter":"web","env":"prod"}',
        '{"cost-center":"web"}',
        None,
    ]


def test_bad_amount_and_bad_date_are_quarantined_good_rows_kept():
    rows = [
        '[1.5, 20241001, "JPY", "s", "Usage", []]',
        '["abc", 20241001, "JPY", "s", "Usage", []]',
        '[2, 20241350, "JPY", "s", "Usage", []]',
        '[3, 20241002, "JPY", "s", "Usage", []]',
    ]
    result = _parse(_page(rows), "page-0007.json")
    assert result.rows["cost"].to_list() == [Decimal("1.5"), Decimal("3")]
    assert result.rows["x_source_line"].to_list() == [1, 4]
    q = result.quarantine.sort("x_source_line")
    assert dict(q.schema) == QUARANTINE_COLUMNS
    assert q["x_source_file"].to_list() == ["page-0007.json"] * 2
    assert q["x_source_line"].to_list() == [2, 3]
    assert q["x_column"].to_list() == ["Cost", "UsageDate"]
    assert q["x_amount"].to_list() == ["abc", "2"]
    assert json.loads(q["x_raw_record"][1])["UsageDate"] == "20241350"


def test_empty_page_is_an_empty_result():
    result = _parse(_page([]))
    assert result.rows.height == 0 and result.quarantine.height == 0
    assert dict(result.rows.schema) == azure.RAW_COLUMNS
    assert dict(azure.to_focus(result.rows).schema) == SOURCE_FOCUS_COLUMNS


def test_other_formats_are_rejected(shared_data):
    gcp_csv = (shared_data / "koku" / "gcp" / "2024-03-01_5.csv").read_bytes()
    with pytest.raises(SourceFormatError, match="export.csv"):
        _parse(gcp_csv, "export.csv")
    ce = json.dumps({"ResultsByTime": [], "DimensionValueAttributes": []}).encode()
    with pytest.raises(SourceFormatError, match="ce.json"):
        _parse(ce, "ce.json")
    no_cost = _page(['["x"]'], ["ResourceGroup"])
    with pytest.raises(SourceFormatError, match="cost"):
        _parse(no_cost)


def test_charge_types_map_to_focus_categories():
    types = ["Usage", "Purchase", "Refund", "UnusedReservation", "Tax"]
    rows = [f'[{i + 1}, 20241001, "JPY", "s", "{t}", []]' for i, t in enumerate(types)]
    focus = azure.to_focus(_parse(_page(rows)).rows).sort("x_source_row_key")
    assert focus["ChargeCategory"].to_list() == ["Usage", "Purchase", "Purchase", "Usage", "Tax"]
    assert focus["ChargeClass"].to_list() == [None, None, "Correction", None, None]


def test_column_name_variants_and_focus_mapping():
    columns = ["Cost", "UsageDate", "Currency", "ResourceGroup", "ResourceLocation", "ResourceId"]
    columns += ["SubscriptionId", "ServiceName", "ReservationId", "ChargeType"]
    rid = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Sql/servers/a/databases/db"
    row = (
        f'[7, "2024-10-01", "JPY", "rg", "Japan East", "{rid}", "s1", "SQL Database", "", "Usage"]'
    )
    focus = azure.to_focus(_parse(_page([row], columns)).rows)
    got = focus.select(
        "RegionId", "ResourceName", "SubAccountId", "x_service_code", "CommitmentDiscountId"
    ).row(0)
    assert got == ("japaneast", "db", "s1", "SQL Database", None)
    assert focus["ChargePeriodStart"][0] == dt.datetime(2024, 10, 1, tzinfo=dt.UTC)
    assert focus["ChargePeriodEnd"][0] == dt.datetime(2024, 10, 2, tzinfo=dt.UTC)
    assert list(focus.columns) == list(SOURCE_FOCUS_COLUMNS)
    assert dict(focus.schema) == SOURCE_FOCUS_COLUMNS


def test_cost_usd_only_page_is_billed_in_usd():
    raw = _parse(_page(["[4.25, 20241001]"], ["CostUSD", "UsageDate"])).rows
    assert raw.select("cost", "cost_usd", "currency").row(0) == (
        Decimal("4.25"),
        Decimal("4.25"),
        "USD",
    )
    assert isinstance(raw, pl.DataFrame)
