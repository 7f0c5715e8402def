"""Azure cost export CSV files: parsed by the azure_cost source into the same raw contract."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest

from finops_assets.domain.sources import azure_cost
from finops_assets.domain.sources.common import SourceFormatError

FETCHED = dt.datetime(2026, 10, 3, tzinfo=dt.UTC)


def _parse(data: bytes, name: str = "export.csv"):
    return azure_cost.parse(data, source_file=name, ingestion_key="k", fetched_at=FETCHED)


def test_the_koku_export_parses_with_exact_totals(shared_data):
    data = (shared_data / "koku" / "azure" / "azure_version_2.csv").read_bytes()
    records = list(csv.DictReader(io.StringIO(data.decode())))
    result = _parse(data)
    assert result.quarantine.height == 0
    assert result.rows["x_source_line"].to_list() == list(range(2, len(records) + 2))
    expected: dict[str, Decimal] = {}
    for r in records:
        code = r["BillingCurrencyCode"]
        expected[code] = expected.get(code, Decimal(0)) + Decimal(r["CostInBillingCurrency"])
    assert dict(azure_cost.billed_totals(result.rows).iter_rows()) == expected
    assert result.rows["resource_id"][0] == "/subscriptions/rsid1"
    assert result.rows["usage_date"][0] == dt.date(2020, 9, 22)
    focus = azure_cost.to_focus(result.rows)
    assert focus["BilledCost"].sum() == sum(expected.values())


def test_us_dates_bare_tags_and_a_bad_amount():
    data = (
        b"SubscriptionId,ResourceGroup,Date,MeterCategory,CostInBillingCurrency,"
        b"BillingCurrencyCode,Tags,ChargeType\n"
        b's1,rg,10/03/2026,Storage,1.2500000001,EUR,"""team"": ""web"",""env"": ""prod""",Usage\n'
        b's1,rg,10/03/2026,Storage,"12,5",EUR,,Usage\n'
        b"s1,rg,2026-10-03,Storage,-0.5,EUR,,Refund\n"
    )
    result = _parse(data)
    assert result.rows["usage_date"].to_list() == [dt.date(2026, 10, 3)] * 2
    assert result.rows["tags_json"][0] == '{"env":"prod","team":"web"}'
    assert result.rows["cost"].sum() == Decimal("0.7500000001")
    assert result.quarantine["x_source_line"].to_list() == [3]
    assert result.quarantine["x_column"].to_list() == ["Cost"]


def test_a_csv_of_another_provider_is_refused(shared_data):
    gcp = (shared_data / "koku" / "gcp" / "2024-03-01_5.csv").read_bytes()
    with pytest.raises(SourceFormatError, match="gcp.csv: not an Azure cost export"):
        _parse(gcp, "gcp.csv")


def test_a_header_only_export_is_an_empty_result():
    result = _parse(b"SubscriptionId,Date,CostInBillingCurrency,BillingCurrencyCode\n")
    assert result.rows.height == 0 and result.quarantine.height == 0
