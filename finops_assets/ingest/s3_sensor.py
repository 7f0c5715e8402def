"""Sensor for billing export files landing in S3 (sources set to FINOPS_SOURCE_<SOURCE>=s3://...).

New objects come from dagster-aws's `get_objects` with a LastModified cursor. LastModified has
one-second resolution, so a cursor of "newer than the newest seen" could skip a file landing in
the same second: the cursor overlaps by OVERLAP and remembers key -> ETag of the objects inside
the overlap, so nothing is missed and nothing counts twice. One run per affected charge day with
run_key = day + hash of that day's keys and ETags: a duplicate delivery (same bytes, same ETag)
maps to the same run_key and Dagster skips it; a restated file changes the hash and runs again.

A location in the native CUR 2.0 layout (`?layout=cur2`, see s3_exports) holds month files
under `data/BILLING_PERIOD=YYYY-MM/`. Which days a (restated) month file covers is unknown
without reading it, so a change there requests every day of that month that is a partition so
far, with run_key = day + hash of the month folder's keys and ETags.
"""

import datetime as dt
import hashlib
import re
from collections import defaultdict
from typing import Any

import dagster as dg
from dagster_aws.s3 import S3Resource
from dagster_aws.s3.sensor import get_objects

from finops_assets.ingest.sensors import DOWNSTREAM, bucket_sensor_result
from finops_assets.partitions import daily_partitions
from finops_assets.resources.s3_exports import (
    day_prefix,
    list_day,
    location_layout,
    parse_location,
    period_prefix,
)
from finops_assets.settings import Settings

OVERLAP = dt.timedelta(seconds=5)


def s3_sources(settings: Settings) -> dict[tuple[str, str], list[str]]:
    """(bucket, prefix) -> the sources whose exports are read from there."""
    watched: dict[tuple[str, str], list[str]] = defaultdict(list)
    for source, location in sorted(settings.source_locations.items()):
        if location.lower().startswith("s3://"):
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


def cur2_locations(settings: Settings) -> set[tuple[str, str]]:
    """(bucket, prefix) of the locations read in the native CUR 2.0 layout."""
    return {
        parse_location(location)
        for location in settings.source_locations.values()
        if location.lower().startswith("s3://") and location_layout(location) == "cur2"
    }


def period_of_key(key: str, prefix: str) -> str | None:
    """The month (YYYY-MM) of a `<prefix>/data/BILLING_PERIOD=YYYY-MM/<file>` key."""
    head = f"{prefix}/data/" if prefix else "data/"
    match = re.fullmatch(r"BILLING_PERIOD=(\d{4}-\d{2})/[^/]+", key.removeprefix(head))
    return match.group(1) if match and key.startswith(head) else None


def period_days(month: str) -> list[str]:
    """The partition keys of `month` that exist so far."""
    return [k for k in daily_partitions.get_partition_keys() if k.startswith(f"{month}-")]


def period_run_key(client: Any, bucket: str, prefix: str, day: str) -> str:
    """day + hash of (key, ETag) of every object in the billing period folder of `day`."""
    digest = hashlib.sha256()
    for obj in list_day(client, bucket, period_prefix(prefix, dt.date.fromisoformat(day))):
        digest.update(f"{obj['Key']}\0{obj['ETag']}\0".encode())
    return f"{day}:{digest.hexdigest()[:16]}"


def day_run_key(client: Any, bucket: str, prefix: str, sources: list[str], day: str) -> str:
    """day + hash of (key, ETag) of every object in that day's folders."""
    digest = hashlib.sha256()
    for source in sources:
        for obj in list_day(client, bucket, day_prefix(prefix, source, day)):
            digest.update(f"{obj['Key']}\0{obj['ETag']}\0".encode())
    return f"{day}:{digest.hexdigest()[:16]}"


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


def s3_run_requests(
    client: Any, settings: Settings, cursor: dict[str, Any]
) -> tuple[list[dg.RunRequest], dict[str, Any]]:
    """Run requests for every watched S3 location, and the updated cursor."""
    requests: dict[str, dg.RunRequest] = {}
    updated = dict(cursor)
    for (bucket, prefix), sources in s3_sources(settings).items():
        location = f"s3://{bucket}/{prefix}"
        changed, updated[location] = changed_objects(
            client, bucket, prefix, cursor.get(location, {})
        )
        days = {day_of_key(o["Key"], prefix, sources) for o in changed}
        for day in sorted(d for d in days if d):
            run_key = day_run_key(client, bucket, prefix, sources, day)
            requests[run_key] = dg.RunRequest(run_key=run_key, partition_key=day)
        if (bucket, prefix) not in cur2_locations(settings):
            continue
        months = {period_of_key(o["Key"], prefix) for o in changed}
        for day in (d for m in sorted(m for m in months if m) for d in period_days(m)):
            run_key = period_run_key(client, bucket, prefix, day)
            requests[run_key] = dg.RunRequest(run_key=run_key, partition_key=day)
    return list(requests.values()), updated


@dg.sensor(
    asset_selection=DOWNSTREAM,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
)
def s3_export_sensor(context: dg.SensorEvaluationContext, s3: S3Resource):
    """New or restated billing export files in S3 -> one run per affected charge day."""
    settings = Settings.from_env()
    return bucket_sensor_result(
        context,
        "s3",
        "S3",
        bool(s3_sources(settings)),
        lambda cursor: s3_run_requests(s3.get_client(), settings, cursor),
    )
