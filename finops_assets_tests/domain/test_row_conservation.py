"""Row counts reconcile, not only amounts: a zero-cost row lost is seen (row_conservation),
and `finops load`'s report fails a day whose file rows != normalized + quarantined rows.

Real public GCP file (koku, with credits); the credits are counted here with Python's csv and
ast, independently of the parser.
"""

import ast
import csv
import datetime as dt
from decimal import Decimal

import polars as pl

from finops_assets.domain import reconcile, row_conservation
from finops_assets.domain.sources import aws_cur, gcp_billing_export
from finops_assets.loading.run import LoadOutcome, render

KOKU_GCP = "koku/gcp/202011_30c31bca571d9b7f3b2c8459dd8bc34a_2020-11-08_2020-11-11.csv"
DAY = dt.date(2024, 2, 1)


def _parsed(shared_data):
    data = (shared_data / KOKU_GCP).read_bytes()
    fetched = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return gcp_billing_export.parse(
        data, source_file="gcp.csv", ingestion_key="k", fetched_at=fetched
    )


def test_gcp_rows_in_are_export_rows_plus_one_credit_row_per_credit(shared_data):
    with (shared_data / KOKU_GCP).open(newline="", encoding="utf-8-sig") as handle:
        records = list(csv.DictReader(handle))
    credits = sum(len(ast.literal_eval(r["credits"] or "[]")) for r in records)
    assert credits > 0  # the file has credits: GCP is not 1:1
    parsed = _parsed(shared_data)
    assert parsed.rows.height == len(records)
    expected = row_conservation.rows_in(gcp_billing_export.SOURCE, parsed.rows)
    assert expected == len(records) + credits
    assert gcp_billing_export.to_focus(parsed.rows).height == expected
    assert row_conservation.rows_in(aws_cur.SOURCE, parsed.rows) == len(records)  # 1:1


def test_a_zero_cost_row_lost_in_normalization_is_a_difference(shared_data):
    focus = gcp_billing_export.to_focus(_parsed(shared_data).rows)
    raw = _parsed(shared_data).rows
    counts = row_conservation.source_counts(gcp_billing_export.SOURCE, raw, focus.height)
    zero = pl.col("BilledCost") == 0
    kept = pl.concat([focus.filter(~zero), focus.filter(zero).slice(1)])
    assert kept.height == focus.height - 1
    report = row_conservation.row_conservation(
        counts, row_conservation.normalized_row_counts(kept), pl.DataFrame()
    )
    [row] = report.to_dicts()
    assert (row["rows_in"], row["normalized_rows"], row["difference"]) == (
        focus.height,
        focus.height - 1,
        1,
    )
    failures = row_conservation.row_failures(DAY, report)
    assert failures == [{"day": DAY.isoformat(), **{k: str(v) for k, v in row.items()}}]
    whole = row_conservation.row_conservation(
        counts, row_conservation.normalized_row_counts(focus), pl.DataFrame()
    )
    assert row_conservation.row_failures(DAY, whole) == []


def _money_reconciled() -> pl.DataFrame:
    zero = pl.DataFrame(
        {"day": [DAY], "currency": ["USD"], "amount": [Decimal(0)]},
        schema=reconcile.TOTALS_SCHEMA,
    )
    return reconcile.reconcile(zero, zero, pl.DataFrame(schema=reconcile.TOTALS_SCHEMA))


def test_the_load_report_fails_a_day_whose_rows_do_not_reconcile():
    """Every amount reconciles (all rows cost 0), one row of six is missing: NOT reconciled."""
    files = pl.DataFrame({"day": [DAY], "rows": [6]}, schema=reconcile.ROWS_SCHEMA)
    lake = pl.DataFrame({"day": [DAY], "rows": [5]}, schema=reconcile.ROWS_SCHEMA)
    rows = reconcile.reconcile_rows(files, lake, pl.DataFrame(schema=reconcile.ROWS_SCHEMA))
    assert rows.select("file_rows", "normalized_rows", "quarantined_rows", "difference").row(0) == (
        6,
        5,
        0,
        1,
    )
    outcome = LoadOutcome(_money_reconciled(), [], pl.DataFrame(), rows)
    assert not outcome.reconciled
    report = render(outcome)
    assert "  2024-02-01  file 6 = normalized 5 + quarantined 0, difference 1  NOT RECONCILED" in (
        report.splitlines()
    )
    assert report.endswith("finops load: does NOT reconcile")


def test_the_load_report_reconciles_rows_and_amounts():
    files = pl.DataFrame({"day": [DAY], "rows": [6]}, schema=reconcile.ROWS_SCHEMA)
    lake = pl.DataFrame({"day": [DAY], "rows": [4]}, schema=reconcile.ROWS_SCHEMA)
    quarantined = pl.DataFrame({"day": [DAY], "rows": [2]}, schema=reconcile.ROWS_SCHEMA)
    rows = reconcile.reconcile_rows(files, lake, quarantined)
    outcome = LoadOutcome(_money_reconciled(), [], pl.DataFrame(), rows)
    report = render(outcome)
    assert (
        "  2024-02-01  file 6 = normalized 4 + quarantined 2, difference 0" in report.splitlines()
    )
    assert outcome.reconciled and report.endswith("finops load: reconciled exactly")
