"""Sensor for billing export files landing in S3 (sources set to FINOPS_SOURCE_<SOURCE>=s3://...).

New objects come from dagster-aws's `get_objects` with a LastModified cursor. LastModified has
one-second resolution, so a cursor of "newer than the newest seen" could skip a file landing in
the same second: the cursor overlaps by OVERLAP and remembers key -> ETag of the objects inside
the overlap, so nothing is missed and nothing counts twice. One run per affected charge day with
run_key = day + hash of the distinct contents (source, SHA-256) of that day's files, not their
keys or ETags: the same bytes again (a multipart re-upload has another ETag) or under another
key map to the same run_key and Dagster skips it; a restated file changes it and runs again.
The cursor keeps a bounded map (key, ETag) -> content hash (domain.cursors.ContentHashes), so an
object is downloaded once to learn its content, not on every tick that looks at its day.

A source read in an AWS native layout (`?layout=cur2` Data Exports, `?layout=cur` legacy CUR,
see s3_exports) is watched by billing-period delivery instead (ingest.bucket_deliveries): one
ranged run over the period's days per new delivery, none for bytes the raw archive holds.
Day folders start from the archive too: a changed day whose files are all archived needs no run,
so a first tick over a loaded lake launches nothing.
"""

import datetime as dt
from collections import defaultdict
from functools import partial
from typing import Any

import dagster as dg
from dagster_aws.s3 import S3Resource
from dagster_aws.s3.sensor import get_objects

from finops_assets.domain import cursors
from finops_assets.ingest.bucket_deliveries import PERIODS, delivery_run_requests, digests_archived
from finops_assets.ingest.sensors import (
    DOWNSTREAM,
    TRIGGER_TAG,
    bucket_sensor_result,
    cost_keys,
)
from finops_assets.partitions import daily_partitions
from finops_assets.resources.lake import LakeResource
from finops_assets.resources.payloads import LandingError
from finops_assets.resources.s3_exports import (
    S3Exports,
    S3Reader,
    day_prefix,
    export_file_name,
    list_day,
    location_layout,
    parse_location,
)
from finops_assets.settings import Settings
from finops_assets.storage.archive import RawArchive

OVERLAP = dt.timedelta(seconds=5)
HASHES = "hashes"  # the cursor's bounded (key, ETag) -> content digest map (cursors.ContentHashes)


def s3_sources(settings: Settings) -> dict[tuple[str, str], list[str]]:
    """(bucket, prefix) -> the sources whose day folders are read from there."""
    watched: dict[tuple[str, str], list[str]] = defaultdict(list)
    for source, location in sorted(settings.source_locations.items()):
        if location.lower().startswith("s3://") and location_layout(location) == "days":
            watched[parse_location(location)].append(source)
    return dict(watched)


def day_of_key(key: str, prefix: str, sources: list[str]) -> str | None:
    """The partition day of a `<prefix>/<source>/<day>/<file>` key of a watched source."""
    head = f"{prefix}/" if prefix else ""
    if not key.startswith(head):
        return None
    parts = key[len(head) :].split("/")
    if len(parts) == 3 and parts[0] in sources and daily_partitions.has_partition_key(parts[1]):
        return parts[1]
    return None


def changed_objects(
    client: Any, bucket: str, prefix: str, cursor: dict[str, Any]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Objects new or rewritten since the cursor, and the cursor to keep.

    cursor = {"since": ISO LastModified of the newest object seen, "seen": {key: etag} of the
    objects within OVERLAP of it}.
    """
    since = dt.datetime.fromisoformat(cursor["since"]) if cursor.get("since") else None
    seen: dict[str, str] = cursor.get("seen", {})
    listed_prefix = f"{prefix}/" if prefix else ""
    objects: list[dict[str, Any]] = get_objects(  # type: ignore[assignment]
        bucket, listed_prefix, since_last_modified=since - OVERLAP if since else None, client=client
    )
    changed = [o for o in objects if seen.get(o["Key"]) != o["ETag"]]
    if not objects:
        return [], cursor
    newest = max(o["LastModified"] for o in objects)
    if since is not None:
        newest = max(newest, since)
    keep = {o["Key"]: o["ETag"] for o in objects if o["LastModified"] >= newest - OVERLAP}
    return changed, {"since": newest.isoformat(), "seen": keep}


def s3_native_locations(settings: Settings) -> list[tuple[str, str, str, str]]:
    """(source, layout, bucket, prefix) of the sources read in an AWS native layout."""
    return [
        (source, location_layout(location), *parse_location(location))
        for source, location in sorted(settings.source_locations.items())
        if location.lower().startswith("s3://") and location_layout(location) != "days"
    ]


def day_digests(
    exports: S3Exports, sources: list[str], day: str, hashes: cursors.ContentHashes
) -> list[tuple[str, str]]:
    """(source, content digest) of every export file of a day folder, each object downloaded
    only when `hashes` does not know its (key, ETag). A refused file (a name outside the
    landing pattern) gives a digest no archive holds: its run then fails naming it."""
    digests = []
    for source in sources:
        folder = day_prefix(exports.prefix, source, day)
        try:
            for obj in list_day(exports.client, exports.bucket, folder):
                if export_file_name(obj["Key"], folder) is None:
                    continue
                read = partial(exports._read, obj)
                digests.append((source, hashes.digest(obj["Key"], obj["ETag"], read)))
        except LandingError as error:
            digests.append((source, f"refused:{cursors.content_digest(str(error).encode())}"))
    return digests


def s3_run_requests(
    client: Any,
    settings: Settings,
    cursor: dict[str, Any],
    archive: RawArchive,
    cost_keys: list[dg.AssetKey],
) -> tuple[list[dg.RunRequest], dict[str, Any]]:
    """Run requests for every watched S3 location, and the updated cursor.

    Day folders: one run per changed day whose bytes the raw archive does not hold yet. Native
    layouts: one ranged run per new delivery (bucket_deliveries).
    """
    requests: dict[str, dg.RunRequest] = {}
    updated = dict(cursor)
    hashes = cursors.ContentHashes(cursor.get(HASHES))
    for (bucket, prefix), sources in s3_sources(settings).items():
        location = f"s3://{bucket}/{prefix}"
        changed, updated[location] = changed_objects(
            client, bucket, prefix, cursor.get(location, {})
        )
        days = {day_of_key(o["Key"], prefix, sources) for o in changed}
        exports = S3Exports(bucket, prefix, client)
        for day in sorted(d for d in days if d):
            digests = day_digests(exports, sources, day, hashes)
            if digests_archived(archive, day, digests):
                continue
            run_key = cursors.content_run_key(day, digests)
            requests[run_key] = dg.RunRequest(run_key=run_key, partition_key=day)
    updated[HASHES] = hashes.entries()
    watched = [
        (source, layout, S3Reader(S3Exports(bucket, prefix, client, layout)))
        for source, layout, bucket, prefix in s3_native_locations(settings)
    ]
    periods, updated[PERIODS] = delivery_run_requests(
        watched, archive, cursor, cost_keys, {TRIGGER_TAG: "s3_export_sensor"}
    )
    return list(requests.values()) + periods, updated


@dg.sensor(
    asset_selection=DOWNSTREAM,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
)
def s3_export_sensor(context: dg.SensorEvaluationContext, s3: S3Resource, lake: LakeResource):
    """New or restated billing export files in S3 -> one run per affected charge day; a new
    billing-period delivery (Data Exports, legacy CUR) -> one ranged run over its period."""
    settings = Settings.from_env()
    watched = bool(s3_sources(settings) or s3_native_locations(settings))
    return bucket_sensor_result(
        context,
        "s3",
        "S3",
        watched,
        lambda cursor: s3_run_requests(
            s3.get_client(), settings, cursor, lake.archive(), cost_keys(context)
        ),
    )
