import datetime as dt
import json
from decimal import Decimal

import polars as pl

from finops_assets.domain.money import to_money
from finops_assets.domain.sources import aws_cost_explorer as ce
from finops_assets.sample import aws_cost_explorer_writer as writer

DAY = dt.date(2024, 3, 5)
FETCHED = dt.datetime(2024, 3, 6, tzinfo=dt.UTC)


def _rows(paths) -> pl.DataFrame:
    results = [
        ce.parse(p.read_bytes(), source_file=p.name, ingestion_key="k", fetched_at=FETCHED)
        for p in paths
    ]
    assert all(r.quarantine.is_empty() for r in results)
    return pl.concat([r.rows for r in results])


def test_pages_are_linked_by_next_page_token(tmp_path):
    paths = writer.write_day(tmp_path, DAY, seed=3, rows_per_day=12, page_size=5)
    assert [p.name for p in paths] == ["page-0001.json", "page-0002.json", "page-0003.json"]
    assert paths[0].parent == tmp_path / "aws_cost_explorer" / "2024-03-05"
    pages = [json.loads(p.read_text()) for p in paths]
    tokens = [page.get("NextPageToken") for page in pages]
    assert tokens[-1] is None and len(set(tokens[:-1])) == 2 and all(tokens[:-1])
    assert [len(page["ResultsByTime"][0]["Groups"]) for page in pages] == [5, 5, 2]
    assert pages[0]["GroupDefinitions"][1] == {"Type": "DIMENSION", "Key": "SERVICE"}


def test_same_arguments_write_the_same_bytes(tmp_path):
    first = writer.write_day(tmp_path / "a", DAY, seed=3, rows_per_day=12)
    second = writer.write_day(tmp_path / "b", DAY, seed=3, rows_per_day=12)
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    other = writer.write_day(tmp_path / "c", DAY, seed=4, rows_per_day=12)
    assert other[0].read_bytes() != first[0].read_bytes()


def test_round_trip_conserves_unblended_cost_exactly(tmp_path):
    paths = writer.write_day(tmp_path, DAY, seed=3, rows_per_day=12, page_size=4)
    expected = sum(
        (
            to_money(group["Metrics"]["UnblendedCost"]["Amount"])
            for p in paths
            for group in json.loads(p.read_text())["ResultsByTime"][0]["Groups"]
        ),
        Decimal(0),
    )
    rows = _rows(paths)
    fo = ce.to_focus(rows)
    assert ce.billed_totals(rows).rows() == [("USD", expected)]
    assert fo["BilledCost"].sum() == expected
    assert sorted(set(fo["ChargeCategory"])) == ["Tax", "Usage"]
    assert set(fo["SubAccountName"]) == {"eu-marketing", "eu-analytics"}
    assert fo["x_charge_date"].unique().to_list() == [DAY]
    assert (fo["EffectiveCost"] <= fo["BilledCost"]).all()


def test_many_rows_group_by_usage_type_and_rewrite_drops_stale_pages(tmp_path):
    paths = writer.write_day(tmp_path, DAY, seed=3, rows_per_day=300, page_size=50)
    assert len(paths) == 6
    rows = _rows(paths)
    assert rows.height == 300
    assert rows["group_definition_2"].unique().to_list() == ["DIMENSION:USAGE_TYPE"]
    assert rows["group_key_2"].n_unique() == 150
    fewer = writer.write_day(tmp_path, DAY, seed=3, rows_per_day=12, page_size=50)
    assert sorted((tmp_path / "aws_cost_explorer" / "2024-03-05").iterdir()) == fewer


def test_estimated_flag_is_passed_through(tmp_path):
    paths = writer.write_day(tmp_path, DAY, seed=3, rows_per_day=12, estimated=True)
    assert _rows(paths)["estimated"].all()
