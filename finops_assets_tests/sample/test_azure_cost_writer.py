"""Azure Query API sample writer: linked pages, deterministic bytes, exact round trip."""

import datetime as dt
import json
from decimal import Decimal

import polars as pl

from finops_assets.domain.money import to_money
from finops_assets.domain.sources import azure_cost as azure
from finops_assets.sample import azure_cost_writer as writer
from finops_assets.sample import estate

FETCHED = dt.datetime(2024, 3, 2, tzinfo=dt.UTC)


def _pages(paths):
    return [json.loads(p.read_bytes(), parse_float=Decimal) for p in paths]


def test_same_arguments_same_bytes(tmp_path):
    day = dt.date(2024, 3, 5)
    first = writer.write_day(tmp_path / "a", day, seed=2, rows_per_day=1200)
    second = writer.write_day(tmp_path / "b", day, seed=2, rows_per_day=1200)
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    assert first[0].relative_to(tmp_path / "a").as_posix() == "azure_cost/2024-03-05/page-0001.json"


def test_pages_are_bounded_and_linked_by_next_link(tmp_path):
    paths = writer.write_day(tmp_path, dt.date(2024, 3, 5), seed=2, rows_per_day=250, page_rows=100)
    assert [p.name for p in paths] == ["page-0001.json", "page-0002.json", "page-0003.json"]
    pages = _pages(paths)
    assert [len(p["properties"]["rows"]) for p in pages] == [100, 100, 50]
    links = [p["properties"]["nextLink"] for p in pages]
    prefix = (
        "https://management.azure.com/providers/Microsoft.Billing/billingAccounts/8611537/"
        "providers/Microsoft.CostManagement/query?api-version=2023-11-01&$skiptoken="
    )
    assert all(link.startswith(prefix) for link in links[:2]) and links[2] is None
    assert links[0] != links[1]


def test_round_trip_conserves_exactly(tmp_path):
    day = dt.date(2024, 3, 1)
    paths = writer.write_day(tmp_path, day, seed=9, rows_per_day=2100, page_rows=1000)
    reference = Decimal(0)
    raws = []
    for path, page in zip(paths, _pages(paths), strict=True):
        reference += sum((to_money(r[0]) for r in page["properties"]["rows"]), Decimal(0))
        for row in page["properties"]["rows"]:
            assert -Decimal(row[0]).as_tuple().exponent <= 4  # at most four fraction digits
        result = azure.parse(
            path.read_bytes(), source_file=path.name, ingestion_key="k", fetched_at=FETCHED
        )
        assert result.quarantine.height == 0
        raws.append(result.rows)
    raw = pl.concat(raws)
    assert raw.height == 2101  # plus the reservation purchase on the 1st
    assert azure.billed_totals(raw).to_dicts() == [{"currency": "JPY", "amount": reference}]
    focus = azure.to_focus(raw)
    assert focus["BilledCost"].sum() == reference
    assert focus["x_source_row_key"].n_unique() == focus.height
    purchase = focus.filter(pl.col("ChargeCategory") == "Purchase")
    assert purchase["CommitmentDiscountType"].to_list() == ["Reservation"]
    assert set(focus["SubAccountId"]) == {
        a.account_id for a in estate.accounts_for_source("azure_cost")
    }
    sql = focus.filter(pl.col("ServiceName") == "SQL Database")
    assert set(sql["SubAccountName"]) == {"shared-services"}
    keys = {k for t in focus["Tags"].drop_nulls() for k in json.loads(t)}
    assert keys >= set(estate.COST_CENTER_TAG_SPELLINGS)
    assert focus["Tags"].null_count() > 0


def test_refund_on_the_fifteenth(tmp_path):
    paths = writer.write_day(tmp_path, dt.date(2024, 3, 15), seed=9, rows_per_day=10)
    raw = azure.parse(
        paths[0].read_bytes(), source_file="p", ingestion_key="k", fetched_at=FETCHED
    ).rows
    refund = azure.to_focus(raw).filter(pl.col("ChargeClass") == "Correction")
    assert refund.height == 1 and refund["BilledCost"][0] < 0
    assert raw.height == 11
