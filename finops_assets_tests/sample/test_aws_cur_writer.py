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
from finops_assets.sample import aws_cur_writer
from finops_assets.sample.estate import COST_CENTER_TAG_SPELLINGS

FIRST_OF_MONTH = dt.date(2024, 3, 1)
FETCHED = dt.datetime(2024, 3, 2, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    landing = tmp_path_factory.mktemp("landing")
    return aws_cur_writer.write_day(landing, FIRST_OF_MONTH, seed=11, rows_per_day=3_000)


@pytest.fixture(scope="module")
def parsed(written):
    results = [
        aws_cur.parse(p.read_bytes(), source_file=p.name, ingestion_key="k", fetched_at=FETCHED)
        for p in written
    ]
    return results


def test_layout_is_one_parquet_and_one_csv_gz_export(written):
    assert [p.relative_to(p.parents[2]).as_posix() for p in written] == [
        "aws_cur/2024-03-01/acme-cur2-parquet-00001.snappy.parquet",
        "aws_cur/2024-03-01/acme-cur2-csv-00001.csv.gz",
    ]


def test_same_arguments_write_the_same_bytes(tmp_path, written):
    again = aws_cur_writer.write_day(tmp_path, FIRST_OF_MONTH, seed=11, rows_per_day=3_000)
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in written]
    other = aws_cur_writer.write_day(tmp_path / "o", FIRST_OF_MONTH, seed=12, rows_per_day=3_000)
    assert other[0].read_bytes() != written[0].read_bytes()


def test_round_trip_conserves_billed_cost_exactly(parsed):
    for result in parsed:
        assert result.quarantine.is_empty()
        fo = aws_cur.to_focus(result.rows)
        assert fo.schema == pl.Schema(focus.SOURCE_FOCUS_COLUMNS)
        totals = dict(aws_cur.billed_totals(result.rows).rows())
        by_currency = dict(fo.group_by("BillingCurrency").agg(pl.col("BilledCost").sum()).rows())
        assert by_currency == totals
        assert fo["x_source_row_key"].n_unique() == fo.height


def test_csv_total_matches_a_python_decimal_sum_of_the_text(written, parsed):
    with gzip.open(written[1], "rt", newline="") as handle:
        costs = [row["line_item_unblended_cost"] for row in csv.DictReader(handle)]
    expected = sum((to_money(c) for c in costs), Decimal(0))
    assert parsed[1].rows.height == len(costs)
    assert aws_cur.billed_totals(parsed[1].rows).rows() == [("USD", expected)]


def test_estate_shape_first_of_month(parsed):
    parquet, csv_rows = parsed[0].rows, parsed[1].rows
    kinds = set(parquet["line_item_line_item_type"]) | set(csv_rows["line_item_line_item_type"])
    assert {"Usage", "Tax", "Fee", "SavingsPlanCoveredUsage", "SavingsPlanNegation"} <= kinds
    assert "SavingsPlanRecurringFee" in kinds
    assert set(parquet["line_item_usage_account_name"]) == {
        "payments-prod",
        "search-prod",
        "data-platform-prod",
    }
    assert set(csv_rows["line_item_usage_account_name"]) == {"shared-networking", "sandbox"}
    usage_types = csv_rows["line_item_usage_type"].to_list()
    assert "USE1-NatGateway-Hours" in usage_types and "USE1-NatGateway-Bytes" in usage_types
    assert parquet.filter(pl.col("line_item_line_item_type") == "Fee")[
        "line_item_product_code"
    ].to_list() == ["AWSSupportBusiness"]


def test_tags_use_every_spelling_and_some_resources_are_untagged(parsed):
    rows = pl.concat([p.rows for p in parsed]).filter(pl.col("line_item_resource_id").is_not_null())
    keys = {k for text in rows["resource_tags"].unique() for k in json.loads(text)}
    assert {f"user_{s}" for s in COST_CENTER_TAG_SPELLINGS} <= keys
    untagged = (rows["resource_tags"] == "{}").mean()
    assert untagged is not None and 0.05 < untagged < 0.4


def test_savings_plan_fee_equals_covered_effective_cost(parsed):
    fo = aws_cur.to_focus(parsed[0].rows)
    covered = fo.filter(pl.col("CommitmentDiscountStatus") == "Used")["EffectiveCost"].sum()
    recurring_purchase = (pl.col("ChargeFrequency") == "Recurring") & (
        pl.col("ChargeCategory") == "Purchase"
    )
    fee = fo.filter(recurring_purchase)["BilledCost"].sum()  # the support fee is Usage
    assert covered == fee > 0
    negation = parsed[0].rows.filter(pl.col("line_item_line_item_type") == "SavingsPlanNegation")
    assert negation.height > 0


def test_a_mid_month_day_has_no_tax_and_scales_with_rows_per_day(tmp_path):
    day = dt.date(2024, 3, 15)
    small = aws_cur_writer.write_day(tmp_path / "s", day, seed=1, rows_per_day=500)
    large = aws_cur_writer.write_day(tmp_path / "l", day, seed=1, rows_per_day=5_000)

    def rows(paths):
        frames = [
            aws_cur.parse(p.read_bytes(), source_file=p.name, ingestion_key="k", fetched_at=FETCHED)
            for p in paths
        ]
        return pl.concat([f.rows for f in frames])

    small_rows, large_rows = rows(small), rows(large)
    assert "Tax" not in small_rows["line_item_line_item_type"].to_list()
    assert large_rows.height > 4 * small_rows.height
    assert large_rows["x_charge_date"].unique().to_list() == [day]


def test_csv_export_text_is_cur2_style(written):
    with gzip.open(written[1], "rt") as handle:
        header = handle.readline().strip().split(",")
        first = next(csv.DictReader(io.StringIO(",".join(header) + "\n" + handle.readline())))
    assert "line_item_unblended_cost" in header and "resource_tags" in header
    assert first["line_item_usage_start_date"].endswith(".000Z")
