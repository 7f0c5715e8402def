"""`finops load` of real public export files, as a user runs it, for the tests that reconcile them.

The command runs in a process of its own with a fresh FINOPS_HOME; FX rates come from an
ECB-format server on 127.0.0.1 serving the real ECB history. A file whose charge days lie far
apart (koku's GCP file: 1 February and 1 March) is cut into windows of consecutive charge days,
every row kept byte for byte: `finops load` runs every day of a delivery's span, so the empty
days in between would only cost time.
"""

import ast
import csv
import datetime as dt
import io
import os
import re
import subprocess
import sys
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake
from finops_assets_tests.servers.ecb import HISTORY_PATH, ecb_site, history_zip

TEN_DECIMALS = Decimal("1e-10")
REPORT_LINE = "{day}  {currency:<8}"


def run_load(home: Path, paths: list[Path], ecb_url: str) -> subprocess.CompletedProcess:
    """`python -m finops_assets.cli load PATH...` with FINOPS_HOME=home, FX from ecb_url."""
    env = {
        **os.environ,
        "FINOPS_HOME": str(home),
        "FINOPS_ECB_BASE_URL": ecb_url,
        "FINOPS_FX_WAIT_RETRIES": "0",
        # koku's Azure file bills its rows in 'MC', not an ISO currency: quarantined, with
        # amount. The quality gate (quarantined share) is tested elsewhere; here every amount
        # must be accounted for.
        "FINOPS_QUARANTINE_MAX_SHARE": "1",
    }
    env.pop("FINOPS_PARTITIONS_START", None)
    env.pop("DAGSTER_HOME", None)
    command = [sys.executable, "-m", "finops_assets.cli", "load", *map(str, paths)]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=1500)  # noqa: S603


def load_with_real_fx(home: Path, paths: list[Path], shared_data: Path) -> str:
    """Load `paths` with the real ECB history served; assert it reconciled; return stdout."""
    history = (shared_data / "reference-fx-currency" / "ecb-eurofxref-hist.csv").read_text()
    with ecb_site() as (base_url, feed):
        feed.files[HISTORY_PATH] = history_zip(history)
        done = run_load(home, paths, base_url)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "finops load: reconciled exactly" in done.stdout, done.stdout[-3000:]
    assert "NOT RECONCILED" not in done.stdout
    return done.stdout


def day_windows(path: Path, day_column: str, out: Path) -> list[Path]:
    """`path` cut into files of consecutive charge days (header and rows byte for byte).

    Every row lands in exactly one window; a row that spans lines (a quoted newline) refuses.
    """
    text = path.read_bytes().decode("utf-8-sig")
    header, *lines = text.splitlines(keepends=True)
    records = list(csv.DictReader(io.StringIO(text)))
    assert len(records) == len(lines), f"{path}: a record spans lines"
    by_day: dict[dt.date, list[str]] = defaultdict(list)
    for record, line in zip(records, lines, strict=True):
        by_day[dt.date.fromisoformat(record[day_column][:10])].append(line)
    windows: list[list[dt.date]] = []
    for day in sorted(by_day):
        if windows and day - windows[-1][-1] == dt.timedelta(days=1):
            windows[-1].append(day)
        else:
            windows.append([day])
    paths = []
    for window in windows:
        # the file name names the export: one each, so no window replaces another
        span = f"{window[0]:%b%d}-{window[-1]:%b%d}".lower()
        target = out / f"{path.stem}.{span}{path.suffix}"
        out.mkdir(parents=True, exist_ok=True)
        target.write_text(header + "".join(line for d in window for line in by_day[d]))
        paths.append(target)
    assert sum(len(p.read_text().splitlines()) - 1 for p in paths) == len(records)
    return paths


def charge_days(path: Path, day_column: str) -> set[dt.date]:
    """The charge days of a file's rows (the first ten characters of `day_column`)."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return {dt.date.fromisoformat(row[day_column][:10]) for row in csv.DictReader(handle)}


def reported_days(report: str) -> set[dt.date]:
    """The days of the per-day-and-currency lines of a `finops load` report."""
    days = set()
    for line in report.splitlines():
        try:
            days.add(dt.date.fromisoformat(line[:10]))
        except ValueError:
            continue
    return days


def focus_file_totals(path: Path) -> dict[tuple[dt.date, str], Decimal]:
    """Per charge day (UTC) and billing currency, sum(BilledCost), with Python's csv and decimal.

    Each amount is rounded half-up at the 10th decimal first: the stored scale (MONEY).
    """
    totals: dict[tuple[dt.date, str], Decimal] = defaultdict(Decimal)
    with path.open(newline="", encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            day = dt.date.fromisoformat(row["ChargePeriodStart"][:10])
            amount = Decimal(row["BilledCost"] or "0").quantize(TEN_DECIMALS, ROUND_HALF_UP)
            totals[(day, row["BillingCurrency"])] += amount
    return dict(totals)


def lake_totals(lake: DeltaLake, days: list[dt.date]) -> dict[tuple[dt.date, str], Decimal]:
    """Per day and currency: normalized BilledCost plus quarantined amounts, from the Delta tables."""
    totals: dict[tuple[dt.date, str], Decimal] = defaultdict(Decimal)
    for row in lake.read_days(tables.NORMALIZED_COSTS, days).iter_rows(named=True):
        totals[(row["x_charge_date"], row["BillingCurrency"])] += row["BilledCost"]
    for row in lake.read_days(tables.QUARANTINE, days).iter_rows(named=True):
        totals[(row["x_charge_date"], row["x_currency"])] += Decimal(row["x_amount"] or "0")
    return dict(totals)


def reported_rows(report: str) -> dict[dt.date, tuple[int, int, int, int]]:
    """Per day, the report's row line: (file rows, normalized, quarantined, difference)."""
    pattern = re.compile(
        r"^  (\d{4}-\d\d-\d\d)  file (\d+) = normalized (\d+) \+ quarantined (\d+), "
        r"difference (-?\d+)"
    )
    rows = {}
    for line in report.splitlines():
        if match := pattern.match(line):
            day, *counts = match.groups()
            rows[dt.date.fromisoformat(day)] = tuple(int(c) for c in counts)
    return rows  # type: ignore[return-value]


def csv_rows_per_day(path: Path, day_column: str, credits_column: str | None = None) -> dict:
    """Per charge day, the rows a file's records must become, with Python's csv (and ast for
    GCP's Python-repr credits: one more row per credit)."""
    rows: dict[dt.date, int] = defaultdict(int)
    with path.open(newline="", encoding="utf-8-sig") as handle:
        for record in csv.DictReader(handle):
            credits = ast.literal_eval(record[credits_column] or "[]") if credits_column else []
            rows[dt.date.fromisoformat(record[day_column][:10])] += 1 + len(credits)
    return dict(rows)
