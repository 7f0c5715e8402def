"""`finops load`, step 1: export files and folders as downloaded -> deliveries, checked and parsed.

A delivery is the file set of one export's billing period. Where a manifest is present (AWS Data
Exports `metadata/BILLING_PERIOD=YYYY-MM/<export>-Manifest.json`, legacy CUR
`<report>/<YYYYMMDD-YYYYMMDD>/<report>-Manifest.json`, Azure `<run id>/manifest.json`) it names
the files; the latest manifest of an export wins, and data files under its folders that it does
not list belong to superseded deliveries and are skipped (Data Exports' "create new" subfolders
reuse file names: a file is matched by its path from `BILLING_PERIOD=` on). A file without a manifest is a
delivery of its own. Every data file is detected, checked for a cut last row, and parsed once.
"""

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import polars as pl

from finops_assets.domain import row_conservation
from finops_assets.domain.deliveries import (
    Manifest,
    check_against_manifest,
    check_not_cut,
    is_manifest_name,
    read_manifest,
)
from finops_assets.domain.reconcile import file_rows, file_totals, row_counts
from finops_assets.domain.sources.common import ParseResult, SourceFormatError, ingestion_key
from finops_assets.domain.sources.detect import detect_format
from finops_assets.sources import BILLING_SOURCES

_BY_NAME = {source.SOURCE: source for source in BILLING_SOURCES}
_DATA_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".json", ".gz")
_UNSAFE = re.compile(r"[^A-Za-z0-9._=-]+")
_RANGE = re.compile(r"\d{8}-\d{8}")
_RUN_SUFFIX = re.compile(
    r"[_-]([0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}|\d{8}(T?\d{4,6})?|\d{4}-\d{2}-\d{2})$"
)


class LoadError(ValueError):
    """Files that cannot be loaded; one line naming the file and why."""


@dataclass
class DeliveryFile:
    """One data file of a delivery, read and parsed."""

    path: Path
    name: str  # the landing file name
    data: bytes
    parsed: ParseResult | None = None


@dataclass
class Delivery:
    """One export's billing period: its files, source, manifest and charge-day span."""

    export: str
    files: list[DeliveryFile]
    manifest: tuple[str, bytes] | None = None
    source: ModuleType | None = None
    period: tuple[dt.date, dt.date] | None = None
    skipped: list[str] = field(default_factory=list)

    def totals(self) -> pl.DataFrame:
        """Per day and currency, what the delivery's files carry (see domain.reconcile)."""
        # S101: type narrowing only: plan_deliveries sets source and period on every delivery (or raises)
        assert self.source is not None and self.period is not None  # noqa: S101
        frames = [
            file_totals(f.parsed, self.source.billed_totals, self.period)
            for f in self.files
            if f.parsed is not None
        ]
        return pl.concat(frames).group_by("day", "currency").agg(pl.col("amount").sum())

    def rows(self) -> pl.DataFrame:
        """Per day, the rows the delivery's files must end as (see domain.reconcile)."""
        # S101: type narrowing only: plan_deliveries sets source and period on every delivery (or raises)
        assert self.source is not None and self.period is not None  # noqa: S101
        source = self.source.SOURCE
        return row_counts(
            [
                file_rows(f.parsed, lambda raw: row_conservation.rows_in(source, raw), self.period)
                for f in self.files
                if f.parsed is not None
            ]
        )

    def ingestion_keys(self) -> set[str]:
        """The keys ingestion gives these files (period files are keyed by their first day)."""
        # S101: type narrowing only: plan_deliveries sets source and period on every delivery (or raises)
        assert self.source is not None and self.period is not None  # noqa: S101
        return {
            ingestion_key(self.source.PROVIDER, self.source.SOURCE, self.period[0], f.data)
            for f in self.files
        }


def plan_deliveries(paths: list[Path]) -> list[Delivery]:
    """Files and folders as downloaded -> deliveries, each detected, checked and parsed."""
    files = _collect(paths)
    manifests = [p for p in files if is_manifest_name(p.name)]
    data = [p for p in files if not is_manifest_name(p.name)]
    deliveries, claimed = _manifest_deliveries(manifests, data)
    for path in data:
        if path not in claimed:
            deliveries.append(Delivery(_safe(export_name(path)), [_file(path)]))
    for delivery in deliveries:
        _parse(delivery)
    return _newest_per_export_and_month(deliveries)


def _newest_per_export_and_month(deliveries: list[Delivery]) -> list[Delivery]:
    """Of several deliveries of one export and billing month (month-to-date files of successive
    runs, without a manifest), the newest file wins; the others are superseded, never mixed."""
    newest: dict[tuple[str, str, dt.date], Delivery] = {}
    superseded: list[Delivery] = []
    for delivery in deliveries:
        assert delivery.source is not None and delivery.period is not None  # noqa: S101
        key = (delivery.source.SOURCE, delivery.export, delivery.period[0].replace(day=1))
        current = newest.get(key)
        if current is None:
            newest[key] = delivery
            continue
        older, newer = sorted((current, delivery), key=_delivery_time)
        newest[key] = newer
        superseded.append(older)
        newer.skipped += [f"{f.path}: superseded by {newer.files[0].path}" for f in older.files]
    return list(newest.values())


def _delivery_time(delivery: Delivery) -> tuple[int, str]:
    """When a delivery was written (its manifest's or newest file's mtime), then its path."""
    stamps = [f.path.stat().st_mtime_ns for f in delivery.files]
    return max(stamps), str(delivery.files[0].path)


def _collect(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found += sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and not any(part.startswith(".") for part in p.parts)
            )
        else:
            raise LoadError(f"{path}: no such file or folder")
    unsupported = [p for p in found if not p.name.lower().endswith(_DATA_SUFFIXES)]
    if unsupported:
        raise LoadError(
            f"{unsupported[0]}: not an export file (expected .csv, .csv.gz, .parquet or a "
            "manifest .json)"
        )
    return list(dict.fromkeys(found))


def _manifest_deliveries(
    manifests: list[Path], data: list[Path]
) -> tuple[list[Delivery], set[Path]]:
    """Deliveries named by manifests (the newest per export and period) and the files they own."""
    newest: dict[tuple[str, str], tuple[Path, Manifest, str]] = {}
    for path in manifests:
        raw = path.read_bytes()
        manifest = read_manifest(raw, str(path))
        export, period = _export_and_period(path, raw)
        current = newest.get((export, period))
        if current is None or path.stat().st_mtime_ns > current[0].stat().st_mtime_ns:
            newest[(export, period)] = (path, manifest, export)
    deliveries, claimed = [], set()
    for path, manifest, export in newest.values():
        roots = _roots(path)
        under = [p for p in data if any(root in p.parents for root in roots)]
        listed = [p for p in under if manifest.lists(p.as_posix())]
        check_against_manifest(manifest, {p.name: p.read_bytes() for p in listed})
        delivery = Delivery(_safe(export), [_file(p) for p in listed])
        delivery.manifest = (_safe(path.name), path.read_bytes())
        delivery.skipped = [f"{p}: not in {path.name}: a superseded delivery" for p in under]
        delivery.skipped = [
            s for s, p in zip(delivery.skipped, under, strict=True) if p not in listed
        ]
        claimed.update(under)
        deliveries.append(delivery)
    return deliveries, claimed


def _roots(manifest: Path) -> list[Path]:
    """Folders whose files a manifest speaks for."""
    for folder in (manifest.parent, manifest.parent.parent):  # Data Exports: a subfolder too
        if folder.parent.name == "metadata" and folder.name.startswith("BILLING_PERIOD="):
            return [folder.parent.parent / "data" / folder.name]  # with its delivery subfolders
    return [manifest.parent]  # legacy CUR (assembly folders below it), Azure run folder


def _export_and_period(path: Path, raw: bytes) -> tuple[str, str]:
    document = json.loads(raw)
    export = (
        document.get("exportName")
        or (document.get("exportConfig") or {}).get("exportName")
        or document.get("reportName")
    )
    if not export:
        name = path.name
        export = name[: -len("-Manifest.json")] if name.endswith("-Manifest.json") else None
    if not export:
        export = path.parent.parent.parent.name  # Azure: <export>/<range>/<run id>/manifest.json
    period = next(
        (p for p in reversed(path.parts) if re.fullmatch(r"(BILLING_PERIOD=)?[\d-]{7,17}", p)),
        str(path.parent),
    )
    return str(export), period


def _parse(delivery: Delivery) -> None:
    for file in delivery.files:
        check_not_cut(file.data, str(file.path))
        try:
            kind = detect_format(file.data, str(file.path))
        except SourceFormatError as error:
            raise LoadError(str(error)) from None
        source = _BY_NAME.get(kind)
        if source is None or kind == "aws_cost_explorer":
            raise LoadError(f"{file.path}: detected {kind}, which `finops load` does not take")
        if delivery.source is not None and delivery.source is not source:
            raise LoadError(f"{file.path}: a {kind} file in a {delivery.source.SOURCE} delivery")
        delivery.source = source
        file.parsed = source.parse(
            file.data, source_file=str(file.path), ingestion_key="plan", fetched_at=_mtime(file)
        )
    days = [
        d for f in delivery.files if f.parsed is not None for d in f.parsed.rows["x_charge_date"]
    ]
    if not days:
        raise LoadError(
            f"{delivery.files[0].path}: no row with a charge day: nothing to load (header-only "
            "or every row unreadable; `finops inspect` shows why)"
        )
    delivery.period = (min(days), max(days))


def _file(path: Path) -> DeliveryFile:
    return DeliveryFile(path, _safe(path.name), path.read_bytes())


def _mtime(file: DeliveryFile) -> dt.datetime:
    stamp = dt.datetime.fromtimestamp(file.path.stat().st_mtime, tz=dt.UTC)
    return stamp.replace(microsecond=0)


def export_name(path: Path) -> str:
    """The export a file without a manifest belongs to, from the provider's folder layout.

    `<export>/<YYYYMMDD-YYYYMMDD>/[<run id>/]<file>` (Azure exports, legacy CUR) names it by
    folder; otherwise the file name without a trailing run id or timestamp
    (`DailyExport_<guid>.csv`, `cost_20240105.csv` are runs of one export).
    """
    parents = [p.name for p in path.parents][:3]
    for index, name in enumerate(parents[:2]):
        if _RANGE.fullmatch(name) and index + 1 < len(parents) and parents[index + 1]:
            return parents[index + 1]
    stem = _stem(path.name)
    return _RUN_SUFFIX.sub("", stem) or stem


def _stem(name: str) -> str:
    for suffix in (".csv.gz", ".snappy.parquet", ".parquet", ".csv", ".gz", ".json"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def _safe(name: str) -> str:
    """A name the landing folder accepts: letters, digits and . _ = - (others become '-')."""
    cleaned = _UNSAFE.sub("-", name).lstrip("._=-")
    return cleaned or "export"
