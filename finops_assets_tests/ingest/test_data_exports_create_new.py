"""AWS Data Exports with file versioning "Create new data export file" (S3 `CREATE_NEW_REPORT`).

Each refresh of a billing period lands in a subfolder of its own under
`data/BILLING_PERIOD=YYYY-MM/`, with the same file names as the refreshes before it, and the
period's `metadata/BILLING_PERIOD=YYYY-MM/<export>-Manifest.json` lists the current refresh's
files by S3 URI. The newest delivery (per its manifest) supersedes the older subfolders, in
`finops load` (the landing folder) and in the S3 sensor alike: nothing mixed, nothing doubled.

The folder and manifest layout is hand-made after AWS's description of the delivery (subfolder
names invented); the data is the public FOCUS sample (`finops load`) and the sample generator's
CUR (the S3 sensor, whose days must fall in the partitions).
"""

import csv
import datetime as dt
import io
import json
import os
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import polars as pl

from finops_assets.loading.plan import plan_deliveries

FOCUS_SAMPLE = "focus-sample-data/FOCUS-1.0/focus_sample.csv"
PERIOD = "BILLING_PERIOD=2024-09"


def _create_new_folder(root: Path, text: str) -> tuple[Path, Path]:
    """Two refreshes of one period: an older partial one and the current whole one."""
    lines = text.splitlines(keepends=True)
    older, newer = "".join(lines[:401]), text
    export = root / "focus-export"
    paths = []
    for stamp, body, mtime in (
        ("20241002T0100Z-e1", older, 1_000),
        ("20241003T0100Z-e2", newer, 2_000),
    ):
        path = export / "data" / PERIOD / stamp / "focus-export-00001.csv"
        path.parent.mkdir(parents=True)
        path.write_text(body)
        os.utime(path, (mtime, mtime))
        paths.append(path)
    manifest = export / "metadata" / PERIOD / "focus-export-Manifest.json"
    manifest.parent.mkdir(parents=True)
    uri = f"s3://bucket/exports/focus-export/data/{PERIOD}/20241003T0100Z-e2/focus-export-00001.csv"
    manifest.write_text(json.dumps({"executionId": "e2", "dataFiles": [uri]}))
    os.utime(manifest, (2_001, 2_001))
    return paths[0], paths[1]


def _billed(text: str) -> dict[str, Decimal]:
    """Per billing currency, sum(BilledCost) with Python's csv and decimal, each amount rounded
    half-up at the stored scale (10 decimals) first."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for row in csv.DictReader(io.StringIO(text)):
        amount = Decimal(row["BilledCost"] or "0").quantize(Decimal("1e-10"), ROUND_HALF_UP)
        totals[row["BillingCurrency"]] += amount
    return dict(totals)


def _by_currency(totals: pl.DataFrame) -> dict[str, Decimal]:
    summed = totals.group_by("currency").agg(pl.col("amount").sum())
    return {row["currency"]: Decimal(str(row["amount"])) for row in summed.iter_rows(named=True)}


def test_finops_load_takes_only_the_subfolder_the_manifest_names(tmp_path, shared_data):
    text = (shared_data / FOCUS_SAMPLE).read_text()
    older, newer = _create_new_folder(tmp_path, text)
    [delivery] = plan_deliveries([tmp_path / "focus-export"])
    assert [f.path for f in delivery.files] == [newer]
    assert delivery.skipped == [
        f"{older}: not in focus-export-Manifest.json: a superseded delivery"
    ]
    assert _by_currency(delivery.totals()) == _billed(text) != _billed(older.read_text())
    assert delivery.period is not None and delivery.period[0] >= dt.date(2020, 1, 1)
