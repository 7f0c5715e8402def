"""Object-store sensors: one ranged run per new billing-period delivery, started from the lake.

A period is looked at when its listing changed since the cursor: an object appeared, went, or
has another content tag (ETag, MD5), or a change time above the period's watermark. Its current
delivery (domain.delivery_layouts) needs a run only when a data file it counts holds bytes the
raw archive does not hold under the period's first day, or its manifest lists a file that is not
there (the run then fails naming it). So switching a sensor on over a loaded lake, or the same
bytes delivered again under any name or in a new assembly or run, launches nothing. The run key
is made of the delivery's content, not its names. The cursor keeps two values per billing
period (watermark and listing digest), however many files and deliveries it saw, and a bounded
map (object, ETag/MD5) -> content hash: a file rewritten with its old bytes, or left as it was
while another file of the delivery changed, is not downloaded again to learn its content.
"""

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import dagster as dg

from finops_assets.domain import cursors
from finops_assets.domain.deliveries import IncompleteDeliveryError
from finops_assets.domain.delivery_layouts import PeriodListing, group_periods
from finops_assets.ingest.landing_periods import RANGE_END_TAG, RANGE_START_TAG, partition_range
from finops_assets.resources.bucket_periods import BucketReader, delivery_objects
from finops_assets.resources.payloads import LandingError
from finops_assets.storage.archive import RawArchive

PERIODS = "periods"  # the bucket sensors' cursor entry for billing-period deliveries


def watched_periods(
    source: str, layout: str, reader: BucketReader
) -> list[tuple[str, PeriodListing]]:
    """(cursor key, period) of every billing period of `source` at the reader's location."""
    return [
        (f"{source}|{reader.uri}|{period.key}", period)
        for period in group_periods(layout, reader.list())
        if period.source in (None, source)
    ]


def delivery_run_requests(
    watched: Sequence[tuple[str, str, BucketReader]],
    archive: RawArchive,
    cursor: Mapping[str, Any],
    cost_keys: Sequence[dg.AssetKey],
    run_tags: Mapping[str, str],
) -> tuple[list[dg.RunRequest], dict[str, Any]]:
    """Ranged run requests (through `cost_keys`) for the changed deliveries of `watched`
    (source, layout, reader), and the cursor entry to keep."""
    state = _decode(cursor.get(PERIODS))
    watermarks, listings = dict(state.watermarks), dict(state.listings)
    entry = cursor.get(PERIODS)
    hashes = cursors.ContentHashes(entry.get("hashes") if isinstance(entry, dict) else None)
    requests = []
    for source, layout, reader in watched:
        reader.hashes = hashes
        for key, period in watched_periods(source, layout, reader):
            listing = listing_digest(period)
            mark = max(_ns(obj.modified) for obj in period.objects)
            if listings.get(key) == listing and mark <= watermarks.get(key, -1):
                continue
            request = _delivery_request(source, layout, reader, period, archive)
            if request is not None:
                run_key, days = request
                requests.append(
                    dg.RunRequest(
                        run_key=run_key,
                        asset_selection=list(cost_keys),
                        tags={**run_tags, RANGE_START_TAG: days[0], RANGE_END_TAG: days[1]},
                    )
                )
            listings[key], watermarks[key] = listing, max(mark, watermarks.get(key, -1))
    return requests, {"watermarks": watermarks, "listings": listings, "hashes": hashes.entries()}


def listing_digest(period: PeriodListing) -> str:
    """A digest of the period's object keys and content tags."""
    text = "\n".join(f"{obj.key}\0{obj.version}" for obj in period.objects)
    return hashlib.sha256(text.encode()).hexdigest()[: cursors.DIGEST_CHARS]


def content_digests(contents: Iterable[tuple[str, bytes]]) -> list[tuple[str, str]]:
    """(source, content digest) of every (source, file bytes) of a day folder."""
    return [(source, cursors.content_digest(data)) for source, data in contents]


def digests_archived(archive: RawArchive, day: str, digests: Iterable[tuple[str, str]]) -> bool:
    """True when the raw archive holds every (source, content digest) of a day folder."""
    held: dict[str, set[str]] = {}
    for source, digest in digests:
        if source not in held:
            held[source] = archive.digests(source, day)
        if digest not in held[source]:
            return False
    return True


def _delivery_request(
    source: str,
    layout: str,
    reader: BucketReader,
    period: PeriodListing,
    archive: RawArchive,
) -> tuple[str, tuple[str, str]] | None:
    """(run key, first and last partition day) of a run over the period's days when its
    delivery is not (wholly) archived, else None."""
    try:
        manifest, files = delivery_objects(reader, layout, period)
        content = sorted(reader.digest(obj) for obj in files)
    except (IncompleteDeliveryError, LandingError) as error:
        content = [f"unreadable:{listing_digest(period)}:{error}"]  # the run fails naming it
    else:
        held = archive.digests(source, period.span[0])
        present = {obj.name for obj in files}
        missing = sorted(manifest.names() - present) if manifest is not None else []
        if not missing and all(digest in held for digest in content):
            return None  # archived already: loaded before, or the same bytes again
        content += [f"missing:{name}" for name in missing]
    days = partition_range(period.span)
    if days is None:
        return None
    digest = hashlib.sha256("\n".join(content).encode()).hexdigest()[:16]
    return f"period:{source}:{period.span[0]}..{period.span[1]}:{digest}", days


def _decode(entry: Any) -> cursors.PeriodCursor:
    if not isinstance(entry, dict):
        return cursors.PeriodCursor()
    return cursors.PeriodCursor(
        {str(k): int(v) for k, v in entry.get("watermarks", {}).items()},
        {str(k): str(v) for k, v in entry.get("listings", {}).items()},
    )


def _ns(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1_000_000) * 1000
