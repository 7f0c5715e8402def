"""Billing-period deliveries in the landing folder, as the landing sensor sees them.

A delivery is one export's file set for one billing period:
`<landing>/<source>/<YYYYMMDD-YYYYMMDD>/<export>/<files>[, manifest]` (what `finops load` lays
out). The raw archive keeps a period file once, under the period's first day, so a delivery
needs a run when a data file it counts (the manifest's list, or every file without one) has
bytes the archive does not hold there. The run covers the period's days in one ranged run; its
run key is made of the delivery's content, so the same bytes delivered again ask for nothing
and a restated delivery asks for a run of its own.
"""

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from finops_assets.domain import cursors
from finops_assets.domain.deliveries import IncompleteDeliveryError, is_manifest_name, read_manifest
from finops_assets.partitions import daily_partitions
from finops_assets.resources.payloads import period_span
from finops_assets.storage.archive import RawArchive

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


@dataclass(frozen=True)
class PeriodDelivery:
    """One export's files in one billing-period folder; each file's `day` is the first day."""

    source: str
    span: tuple[dt.date, dt.date]
    files: tuple[cursors.LandedFile, ...]

    @property
    def folder(self) -> str:
        """`<source>/<YYYYMMDD-YYYYMMDD>/<export>`, relative to the landing folder."""
        return self.files[0].path.rsplit("/", 1)[0]


def period_deliveries(landing: Path, sources: tuple[str, ...]) -> list[PeriodDelivery]:
    """Every delivery under the billing-period folders of `sources`, in path order.

    Hidden files and unfinished `.tmp` copies are not part of a delivery. The change time of a
    file is the later of mtime and ctime, as for the day folders.
    """
    deliveries = []
    for source in sources:
        for period in sorted((landing / source).glob("*")):
            span = period_span(period.name)
            if span is None or not period.is_dir():
                continue
            for export in sorted(p for p in period.iterdir() if p.is_dir()):
                files = tuple(
                    _landed(landing, source, span[0], path)
                    for path in sorted(export.iterdir())
                    if path.is_file()
                    and not path.name.startswith(".")
                    and not path.name.endswith(".tmp")
                )
                if files:
                    deliveries.append(PeriodDelivery(source, span, files))
    return deliveries


def _landed(landing: Path, source: str, first: dt.date, path: Path) -> cursors.LandedFile:
    stat = path.stat()
    changed = max(stat.st_mtime_ns, stat.st_ctime_ns)
    return cursors.LandedFile(source, first.isoformat(), str(path.relative_to(landing)), changed)


def counted_files(landing: Path, delivery: PeriodDelivery) -> list[cursors.LandedFile]:
    """The data files the delivery counts: those its manifest lists, or all but the manifest.

    A manifest that cannot be read counts every file: the run then fails naming the manifest,
    rather than the sensor staying silent.
    """
    data = [f for f in delivery.files if not is_manifest_name(f.path)]
    manifests = [f for f in delivery.files if is_manifest_name(f.path)]
    if len(manifests) != 1:
        return data
    try:
        listed = read_manifest((landing / manifests[0].path).read_bytes(), manifests[0].path)
    except IncompleteDeliveryError:
        return data
    names = listed.names()
    return [f for f in data if f.path.rsplit("/", 1)[-1] in names]


def period_run_requests(
    landing: Path,
    archive: RawArchive,
    deliveries: list[PeriodDelivery],
    examined: set[str],
    cost_keys: list[dg.AssetKey],
    tags: dict[str, str],
) -> list[dg.RunRequest]:
    """One ranged run per billing period with a delivery whose counted bytes are not archived.

    Only deliveries with an `examined` file (changed since the cursor) are looked at. Days of
    the period outside the partitions (before the first, after the last) are left out.
    """
    changed: dict[tuple[dt.date, dt.date], list[tuple[str, str]]] = {}
    for delivery in deliveries:
        if not any(f.path in examined for f in delivery.files):
            continue
        counted = counted_files(landing, delivery)
        digests = {f.path: cursors.content_digest((landing / f.path).read_bytes()) for f in counted}
        held = archive.digests(delivery.source, delivery.span[0])
        if all(digest in held for digest in digests.values()):
            continue  # the same bytes were ingested already (or the delivery is empty)
        changed.setdefault(delivery.span, []).extend(sorted(digests.items()))
    requests = []
    for span, contents in sorted(changed.items()):
        days = partition_range(span)
        if days is None:
            continue
        requests.append(
            dg.RunRequest(
                run_key=_period_run_key(span, contents),
                asset_selection=cost_keys,
                tags={**tags, RANGE_START_TAG: days[0], RANGE_END_TAG: days[1]},
            )
        )
    return requests


def partition_range(span: tuple[dt.date, dt.date]) -> tuple[str, str] | None:
    """The period's days clipped to the existing daily partitions; None when none is left."""
    keys = daily_partitions.get_partition_keys()
    if not keys:
        return None
    start = max(span[0].isoformat(), keys[0])
    end = min(span[1].isoformat(), keys[-1])
    return (start, end) if start <= end else None


def _period_run_key(span: tuple[dt.date, dt.date], contents: list[tuple[str, str]]) -> str:
    """`period:<first>..<last>:<hash of every counted file's path and content digest>`."""
    digest = hashlib.sha256()
    for path, file_digest in sorted(contents):
        digest.update(f"{path}\0{file_digest}\n".encode())
    return f"period:{span[0].isoformat()}..{span[1].isoformat()}:{digest.hexdigest()[:16]}"
