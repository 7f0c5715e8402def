"""One 31-day CUR 2.0 billing-period file loaded through the product vs one parse of it.

`python -m bench.period_parse --rows-per-day N`: writes the sample estate's CUR 2.0 CSV rows of
October 2026 as one month file in a billing-period landing folder (as `finops load` lays it
out), then (1) parses it once with the product's parser (`aws_cur.parse`, what the raw asset
calls) and (2) loads its 31 days through the product: one in-process ranged Dagster run of the
raw asset `aws_cur_raw` over 2026-10-01..31 on a fresh instance (archive, parse through the
run's parse cache, checks, 31 Delta day writes). Issue 20's target: (2) <= 1.3 x (1). The parser
is counted during (2) (one parse, not 31), and the lake's rows and billed total must equal the
parse's (last stdout line: JSON for bench.run; exit 1 otherwise).
"""

import argparse
import datetime as dt
import gzip
import json
import os
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from finops_assets.domain.sources import aws_cur
from finops_assets.resources.payloads import period_folder_name
from finops_assets.sample import aws_cur_writer

FIRST = dt.date(2026, 10, 1)
DAYS = [FIRST + dt.timedelta(days=n) for n in range(31)]
EXPORT = "cur2"


def month_file(scratch: Path, rows_per_day: int, seed_of=lambda day: 7) -> bytes:  # noqa: ANN001
    """The CSV export of each day of October (day written with seed_of(day)), one gzip CSV."""
    parts: list[bytes] = []
    for day in DAYS:
        paths = aws_cur_writer.write_day(scratch, day, seed=seed_of(day), rows_per_day=rows_per_day)
        text = gzip.decompress(next(p for p in paths if p.suffix == ".gz").read_bytes())
        parts.append(text if not parts else text.split(b"\n", 1)[1])
    return gzip.compress(b"".join(parts), compresslevel=3, mtime=0)


def delivery_path(landing: Path) -> Path:
    """Where the October delivery lies in the landing folder (billing-period layout)."""
    folder = landing / "aws_cur" / period_folder_name(DAYS[0], DAYS[-1]) / EXPORT
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "cur2-00001.csv.gz"


def parse_once(data: bytes) -> dict:
    """(1) One parse of the file by the product's parser: seconds, rows, billed total."""
    start, cpu = time.perf_counter(), time.process_time()
    parsed = aws_cur.parse(
        data,
        source_file="cur2-00001.csv.gz",
        ingestion_key="bench",
        fetched_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
    )
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    total = sum(aws_cur.billed_totals(parsed.rows)["amount"], Decimal(0))
    return {"seconds": seconds, "cpu_seconds": cpu, "rows": parsed.rows.height, "total": str(total)}


def load_through_product(home: Path) -> dict:
    """(2) The ranged run of aws_cur_raw over the 31 days: seconds, parses, lake rows, total."""
    os.environ.update(
        FINOPS_HOME=str(home), FINOPS_ECB_BASE_URL="off", FINOPS_PARTITIONS_START="2025-01-01"
    )
    from finops_assets.demo import materialize_window, prepare_instance
    from finops_assets.settings import Settings
    from finops_assets.storage import tables
    from finops_assets.storage.delta import DeltaLake

    settings = Settings.from_env()
    instance = prepare_instance(settings)
    parses: list[str] = []
    real_parse = aws_cur.parse

    def counted(data: bytes, **kwargs):  # noqa: ANN202
        parses.append(kwargs["source_file"])
        return real_parse(data, **kwargs)

    aws_cur.parse = counted  # type: ignore[assignment]
    try:
        start, cpu = time.perf_counter(), time.process_time()
        result = materialize_window(instance, DAYS[0], DAYS[-1], "aws_cur_raw")
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    finally:
        aws_cur.parse = real_parse  # type: ignore[assignment]
    if not result.success:
        raise RuntimeError("the aws_cur_raw run over October failed")
    rows = DeltaLake(settings.lake_uri).read_days(tables.raw_contract(aws_cur), DAYS)
    total = sum(aws_cur.billed_totals(rows)["amount"], Decimal(0))
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "parses": len(parses),
        "rows": rows.height,
        "total": str(total),
    }


def main(argv: list[str] | None = None) -> int:
    """Measure and print one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m bench.period_parse", description=__doc__)
    parser.add_argument("--rows-per-day", type=int, default=20_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="period-parse-") as tmp:
        root = Path(tmp)
        data = month_file(root / "scratch", args.rows_per_day)
        delivery_path(root / "home" / "landing").write_bytes(data)
        once = parse_once(data)
        loaded = load_through_product(root / "home")
    same = (once["rows"], once["total"]) == (loaded["rows"], loaded["total"])
    result = {
        "seconds": loaded["seconds"],
        "cpu_seconds": loaded["cpu_seconds"],
        "rows": loaded["rows"],
        "days": len(DAYS),
        "file_mb": round(len(data) / 1024**2, 2),
        "parse_once": once,
        "product_load": loaded,
        "ratio": loaded["seconds"] / once["seconds"],
        "cpu_ratio": loaded["cpu_seconds"] / once["cpu_seconds"],
        "same_rows_and_total": same,
    }
    print(
        f"  31-day CUR file, {loaded['rows']:,} rows: one parse {once['seconds']:.2f} s, "
        f"aws_cur_raw over 31 days {loaded['seconds']:.2f} s ({loaded['parses']} parse), "
        f"ratio {result['ratio']:.2f}, same rows and total: {same}",
        file=sys.stderr,
    )
    print(json.dumps(result))
    return 0 if same and loaded["parses"] == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
