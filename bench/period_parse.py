"""One 31-day CUR 2.0 billing-period file through raw ingestion: one parse, not 31.

Writes the sample estate's CUR 2.0 CSV rows of October 2026 as one month file in a billing-period
landing folder, then ingests its 31 days twice through the real pipeline (landing folder, raw
archive, parser): with the run's parse cache, as the raw asset does, and with a fresh cache per
day, as each day re-parsing the month would. Prints the times, the parse counts and whether the
two give the same rows and totals (last stdout line: JSON for bench.run).
"""

import argparse
import datetime as dt
import gzip
import json
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from finops_assets.domain.sources import aws_cur
from finops_assets.ingest.pipeline import ParseCache, ingest_payloads
from finops_assets.resources.payloads import LandingFolder, period_folder_name
from finops_assets.sample import aws_cur_writer
from finops_assets.storage.archive import RawArchive

FIRST = dt.date(2026, 10, 1)
DAYS = [FIRST + dt.timedelta(days=n) for n in range(31)]


def write_month_file(root: Path, rows_per_day: int) -> Path:
    """The CSV export of each day of October, as one gzip CSV with one header."""
    scratch, parts = root / "days", []
    for day in DAYS:
        paths = aws_cur_writer.write_day(scratch, day, seed=7, rows_per_day=rows_per_day)
        text = gzip.decompress(next(p for p in paths if p.suffix == ".gz").read_bytes())
        parts.append(text if not parts else text.split(b"\n", 1)[1])
    folder = root / "landing" / "aws_cur" / period_folder_name(DAYS[0], DAYS[-1]) / "cur2"
    folder.mkdir(parents=True)
    path = folder / "cur2-00001.csv.gz"
    path.write_bytes(gzip.compress(b"".join(parts), compresslevel=3, mtime=0))
    return path


def ingest_month(landing: Path, lake: Path, shared_cache: bool) -> dict:
    """Ingest the 31 days; time, parse count, rows and billed total."""
    parses: list[str] = []
    real_parse = aws_cur.parse

    def counted(data: bytes, **kwargs):
        parses.append(kwargs["source_file"])
        return real_parse(data, **kwargs)

    aws_cur.parse = counted  # type: ignore[assignment]
    try:
        folder, archive, cache = LandingFolder(landing), RawArchive(str(lake)), {}
        start, rows, total = time.perf_counter(), 0, Decimal(0)
        for day in DAYS:
            day_cache: ParseCache = cache if shared_cache else {}
            ingested = ingest_payloads(
                aws_cur, folder.fetch("aws_cur", day), day, archive, day_cache
            )
            rows += ingested.rows.height
            total += sum(aws_cur.billed_totals(ingested.rows)["amount"], Decimal(0))
        seconds = time.perf_counter() - start
    finally:
        aws_cur.parse = real_parse  # type: ignore[assignment]
    return {"seconds": seconds, "parses": len(parses), "rows": rows, "total": str(total)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.period_parse", description=__doc__)
    parser.add_argument("--rows-per-day", type=int, default=20_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="period-parse-") as tmp:
        root = Path(tmp)
        write_month_file(root, args.rows_per_day)
        once = ingest_month(root / "landing", root / "lake-once", shared_cache=True)
        daily = ingest_month(root / "landing", root / "lake-daily", shared_cache=False)
    result = {
        "seconds": once["seconds"],
        "rows": once["rows"],
        "days": len(DAYS),
        "parsed_once": once,
        "parsed_daily": daily,
        "speedup": daily["seconds"] / once["seconds"],
        "same_rows_and_total": (once["rows"], once["total"]) == (daily["rows"], daily["total"]),
    }
    print(
        f"  31-day CUR file, {once['rows']:,} rows: parsed once {once['seconds']:.2f} s "
        f"({once['parses']} parse), parsed per day {daily['seconds']:.2f} s "
        f"({daily['parses']} parses), same rows and total: {result['same_rows_and_total']}",
        file=sys.stderr,
    )
    print(json.dumps(result))
    return 0 if result["same_rows_and_total"] and once["parses"] == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
