"""`make chaos`: inject each fault into a small sample estate, recover, and print what was lost.

Loopback only, bounded (every run is a child process with a time limit), and it stops by itself.
Exit 0 only when every row shows 0 lost, 0 duplicated and an honest status.
"""

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

from finops_assets_tests.chaos.faults import FAST_FAULTS, FAULTS, Fault, Row, Window
from finops_assets_tests.chaos.harness import build_baseline

START = dt.date(2026, 10, 1)


def run_faults(root: Path, faults: list[Fault], days: int, rows_per_day: int) -> list[Row]:
    """Build the baseline once, then run each fault on a fresh copy of it."""
    window = Window([START + dt.timedelta(days=n) for n in range(days)], 20261001, rows_per_day)
    baseline = build_baseline(root / "baseline", window.days, rows_per_day, window.seed)
    rows = []
    for number, fault in enumerate(faults, start=1):
        estate = baseline.copy_to(root / f"fault-{number:02d}")
        began = time.monotonic()
        try:
            row = fault(estate, window)
        except Exception as error:  # a fault that breaks the harness is a row, not a crash
            row = Row(getattr(fault, "__name__", "fault"), "?", "?", False, f"error: {error!r}")
        row.note = f"{row.note} [{time.monotonic() - began:.0f} s]".strip()
        print(format_row(row), flush=True)
        rows.append(row)
    return rows


HEADER = f"| {'fault':<46} | {'money lost':<22} | {'money duplicated':<22} | honest | note"


def format_row(row: Row) -> str:
    honest = "yes" if row.honest else "NO"
    return f"| {row.fault:<46} | {row.lost:<22} | {row.duplicated:<22} | {honest:<6} | {row.note}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make chaos", description=__doc__)
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--rows-per-day", type=int, default=300)
    parser.add_argument("--fast", action="store_true", help="only the fast subset")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    parser.add_argument("--only", default="", help="comma-separated fault names (functions)")
    args = parser.parse_args(argv)
    faults = FAST_FAULTS if args.fast else FAULTS
    if args.only:
        names = set(args.only.split(","))
        faults = [fault for fault in faults if getattr(fault, "__name__", "") in names]
    print(HEADER)
    print("|" + "-" * 48 + "|" + "-" * 24 + "|" + "-" * 24 + "|--------|------")
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=False)
        rows = run_faults(args.keep, faults, args.days, args.rows_per_day)
    else:
        with tempfile.TemporaryDirectory(prefix="finops-chaos-") as scratch:
            rows = run_faults(Path(scratch), faults, args.days, args.rows_per_day)
    bad = [row for row in rows if not row.clean]
    print(f"\n{len(rows) - len(bad)} of {len(rows)} faults: 0 lost, 0 duplicated, honest status.")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
