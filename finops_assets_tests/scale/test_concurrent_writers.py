"""Two processes replacing different days of one Delta table on S3 at the same moment both commit.

delta-rs commits with a conditional PUT of the next _delta_log entry (If-None-Match: *), which the
S3 server enforces; the loser of a race re-reads the log and retries, since the days do not
overlap. No unsafe-rename option is set anywhere.
"""

import datetime as dt
import multiprocessing

import deltalake
import polars as pl
import pytest

from finops_assets.storage.delta import DeltaLake
from finops_assets_tests.scale.writers import CONTRACT, ROWS, write_day_at_barrier

pytestmark = pytest.mark.slow

ROUNDS = 6
DAYS = [dt.date(2026, 10, 1), dt.date(2026, 10, 2)]


def _race(lake_uri: str, options: dict[str, str], round_number: int) -> list[str]:
    ctx = multiprocessing.get_context("spawn")
    barrier, errors = ctx.Barrier(len(DAYS)), ctx.Queue()
    writers = [
        ctx.Process(
            target=write_day_at_barrier,
            args=(lake_uri, options, day, round_number, barrier, errors),
        )
        for day in DAYS
    ]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=120)
    failures = [f"exit code {w.exitcode}" for w in writers if w.exitcode != 0]
    while not errors.empty():
        failures.append(errors.get())
    return failures


def test_two_writers_of_different_days_both_commit_every_round(s3_server):
    bucket = s3_server.new_bucket()
    lake_uri, options = f"s3://{bucket}/lake", s3_server.env()
    assert "AWS_S3_ALLOW_UNSAFE_RENAME" not in options
    lake = DeltaLake(lake_uri, options)
    for round_number in range(1, ROUNDS + 1):
        assert _race(lake_uri, options, round_number) == [], f"round {round_number}"
        table = lake.read_days(CONTRACT, DAYS)
        per_day = table.group_by("x_charge_date").agg(
            pl.len().alias("rows"),
            pl.col("x_round").min().alias("first"),
            pl.col("x_round").max().alias("last"),
        )
        assert per_day.sort("x_charge_date").rows() == [
            (day, ROWS, round_number, round_number) for day in DAYS
        ], f"round {round_number}"
    history = deltalake.DeltaTable(lake.table_uri(CONTRACT), storage_options=options).history()
    writes = [h for h in history if h.get("operation") in ("WRITE", "CREATE TABLE")]
    assert len(writes) == ROUNDS * len(DAYS)
