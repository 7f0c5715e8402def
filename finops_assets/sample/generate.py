"""Write the whole sample estate (every source's wire format) for a window of days."""

import datetime as dt
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from finops_assets.domain.deliveries import is_manifest_name
from finops_assets.resources.payloads import period_folder_name, period_span
from finops_assets.sample import (
    aws_cost_explorer_writer,
    aws_cur_writer,
    azure_cost_writer,
    focus_export_writer,
    gcp_billing_export_writer,
    k8s_usage_writer,
    utilization_writer,
)
from finops_assets.sample import delivery_layout as layout

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

    Export sources land in their providers' billing-period layout (delivery_layout.py), API
    pages and usage files in day folders. Files are written to a scratch folder first and
    copied only when their bytes differ, so a second run leaves the landing folder (and file
    mtimes) untouched; files the generator no longer produces in a folder it writes are
    removed, and so is a delivery its new one supersedes (the same export and month under
    another day range, or a day folder of an export source), so nothing is counted twice.
    """
    landing_dir.mkdir(parents=True, exist_ok=True)
    window = [start + dt.timedelta(days=offset) for offset in range(days)]
    counts = dict.fromkeys(SOURCE_WRITERS, 0)
    changed = 0
    with tempfile.TemporaryDirectory(dir=landing_dir.parent, prefix=".generate-") as scratch:
        produced = Path(scratch)
        for day in window:
            for source, (writer, share) in SOURCE_WRITERS.items():
                rows = min(max(1, int(rows_per_day * share)), ROW_CAPS.get(source, rows_per_day))
                written = writer(produced, day, seed, rows)
                counts[source] += len(written)
                if source not in layout.PERIOD_SOURCES:
                    changed += _sync_folder(
                        _listing(produced / source / day.isoformat()),
                        landing_dir / source / day.isoformat(),
                    )
        for source in layout.PERIOD_SOURCES:
            changed += _land_periods(produced, landing_dir, source, window)
    changed += aws_cost_explorer_writer.write_caller_identity(landing_dir)
    return GeneratedEstate(window, counts, changed)


def day_files(landing_dir: Path, source: str, day: dt.date) -> list[Path]:
    """The landed files holding `source`'s rows of `day`: its day folder's files (API pages,
    usage, files added by hand), then the day's parts in the billing-period folders."""
    folder = landing_dir / source / day.isoformat()
    found = sorted(folder.iterdir()) if folder.is_dir() else []
    if source not in layout.PERIOD_SOURCES:
        return found
    for period in sorted((landing_dir / source).glob("*-*")):
        span = period_span(period.name)
        if span is None or not span[0] <= day <= span[1]:
            continue
        found += [
            path
            for path in sorted(period.glob("*/*"))
            if path.is_file() and layout.holds_day(source, path.name, day)
        ]
    return found


def _land_periods(produced: Path, landing_dir: Path, source: str, window: list[dt.date]) -> int:
    """Lay one export source's days into its billing-period folders (with manifests).

    A month that already has a delivery of the export keeps its other days: the new delivery
    is month-to-date (the earlier days' parts plus the window's), under the merged day range,
    and replaces the old folder, as a provider's next delivery of the period does.
    """
    changed = 0
    for window_span in layout.period_spans(window):
        exports: dict[str, dict[str, bytes]] = {}
        for offset in range((window_span[1] - window_span[0]).days + 1):
            day = window_span[0] + dt.timedelta(days=offset)
            folder = produced / source / day.isoformat()
            for path in sorted(folder.iterdir()) if folder.is_dir() else []:
                export, name = layout.landed_name(source, path.name, day)
                exports.setdefault(export, {})[name] = path.read_bytes()
        for export, files in sorted(exports.items()):
            span, earlier, removed = _take_earlier(landing_dir, source, window_span, export)
            changed += removed + _drop_day_folders(landing_dir, source, window_span)
            listing = {**earlier, **files}
            manifest = layout.manifest(source, export, span, listing)
            if manifest is not None:
                listing[manifest[0]] = manifest[1]
            target = landing_dir / layout.period_folder(source, span, export)
            changed += _sync_folder(listing, target)
    return changed


def _take_earlier(
    landing_dir: Path, source: str, window_span: tuple[dt.date, dt.date], export: str
) -> tuple[tuple[dt.date, dt.date], dict[str, bytes], int]:
    """The export's delivery of the month under another day range: the merged range, its data
    files (manifests are written anew) and how many folders were removed (it is superseded)."""
    base = landing_dir / source
    first, last = window_span
    files: dict[str, bytes] = {}
    older = []
    for folder in sorted(base.glob(f"*/{export}")) if base.is_dir() else []:
        span = period_span(folder.parent.name)
        if span and span[0].replace(day=1) == first.replace(day=1):
            first, last = min(first, span[0]), max(last, span[1])
            files.update(_listing(folder))
            older.append(folder)
    files = {name: data for name, data in files.items() if not is_manifest_name(name)}
    target = base / period_folder_name(first, last) / export
    removed = 0
    for folder in older:
        if folder != target:
            shutil.rmtree(folder)
            removed += 1
            if not any(folder.parent.iterdir()):
                folder.parent.rmdir()
    return (first, last), files, removed


def _drop_day_folders(landing_dir: Path, source: str, span: tuple[dt.date, dt.date]) -> int:
    """Day folders of an export source (the older per-day layout) for the period's days:
    removed, so their rows are not delivered twice."""
    removed = 0
    for offset in range((span[1] - span[0]).days + 1):
        folder = landing_dir / source / (span[0] + dt.timedelta(days=offset)).isoformat()
        if folder.is_dir():
            shutil.rmtree(folder)
            removed += 1
    return removed


def _listing(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.is_dir() else {}


def _sync_folder(files: dict[str, bytes], target: Path) -> int:
    """Write changed files of `files` into `target`; drop files no longer produced."""
    target.mkdir(parents=True, exist_ok=True)
    changed = 0
    for stale in target.iterdir():
        if stale.name not in files:
            stale.unlink()
            changed += 1
    for name in sorted(files):
        destination = target / name
        if destination.exists() and destination.read_bytes() == files[name]:
            continue
        destination.write_bytes(files[name])
        changed += 1
    return changed
