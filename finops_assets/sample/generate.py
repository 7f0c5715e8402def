"""Write the whole sample estate (every source's wire format) for a window of days."""

import datetime as dt
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from finops_assets.sample import (
    aws_cost_explorer_writer,
    aws_cur_writer,
    azure_cost_writer,
    focus_export_writer,
    gcp_billing_export_writer,
    k8s_usage_writer,
    utilization_writer,
)

DayWriter = Callable[[Path, dt.date, int, int], list[Path]]

# Share of the day's rows each source writes (the rest of a real estate's shape is in estate.py).
SOURCE_WRITERS: dict[str, tuple[DayWriter, float]] = {
    "aws_cur": (aws_cur_writer.write_day, 0.40),
    "gcp_billing_export": (gcp_billing_export_writer.write_day, 0.25),
    "azure_cost": (azure_cost_writer.write_day, 0.15),
    "aws_cost_explorer": (aws_cost_explorer_writer.write_day, 0.10),
    "focus_export": (focus_export_writer.write_day, 0.10),
    "k8s_usage": (k8s_usage_writer.write_day, 0.05),  # usage, not billing rows
    # CPU/memory metrics of the compute resources the billing files above charge for: last.
    "utilization": (utilization_writer.write_day, 0.0),
}
# Cost Explorer is aggregated data: one group per account and service, whatever the estate's size
# (more groups would switch the writer to USAGE_TYPE groups, which carry no service name).
ROW_CAPS = {"aws_cost_explorer": 12}
DEFAULT_SEED = 20261001
DEFAULT_ROWS_PER_DAY = 2_000


@dataclass(frozen=True)
class GeneratedEstate:
    """What the generator wrote: files per source, and how many it changed on disk."""

    days: list[dt.date]
    files: dict[str, int]
    changed: int


def generate_estate(
    landing_dir: Path,
    start: dt.date,
    days: int,
    seed: int = DEFAULT_SEED,
    rows_per_day: int = DEFAULT_ROWS_PER_DAY,
) -> GeneratedEstate:
    """Write `days` days of every source into `landing_dir`, deterministically.

    Files are written to a scratch folder first and copied only when their bytes differ, so a
    second run leaves the landing folder (and file mtimes) untouched; files of a day folder that
    the generator no longer produces are removed, so a smaller re-run leaves no stray pages.
    """
    landing_dir.mkdir(parents=True, exist_ok=True)
    window = [start + dt.timedelta(days=offset) for offset in range(days)]
    counts = dict.fromkeys(SOURCE_WRITERS, 0)
    changed = 0
    with tempfile.TemporaryDirectory(dir=landing_dir.parent, prefix=".generate-") as scratch:
        for day in window:
            for source, (writer, share) in SOURCE_WRITERS.items():
                rows = min(max(1, int(rows_per_day * share)), ROW_CAPS.get(source, rows_per_day))
                written = writer(Path(scratch), day, seed, rows)
                counts[source] += len(written)
                changed += _sync_day(
                    Path(scratch) / source / day.isoformat(), landing_dir / source / day.isoformat()
                )
    changed += aws_cost_explorer_writer.write_caller_identity(landing_dir)
    return GeneratedEstate(window, counts, changed)


def _sync_day(produced: Path, target: Path) -> int:
    """Copy changed files from `produced` into `target`; drop files no longer produced."""
    target.mkdir(parents=True, exist_ok=True)
    names = {p.name for p in produced.iterdir()} if produced.is_dir() else set()
    changed = 0
    for stale in target.iterdir():
        if stale.name not in names:
            stale.unlink()
            changed += 1
    for name in sorted(names):
        source, destination = produced / name, target / name
        if destination.exists() and destination.read_bytes() == source.read_bytes():
            continue
        shutil.copyfile(source, destination)
        changed += 1
    return changed
