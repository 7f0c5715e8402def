"""Sensor for billing export files landing in Azure Blob Storage (FINOPS_SOURCE_<S>=az://...).

Blob listings cannot filter by time on the server, so the whole prefix is listed and the cursor
keeps the newest last-modified time seen plus name -> ETag of the blobs modified within OVERLAP
of it (last-modified has one-second resolution): a blob is new when it is newer than that window
or its ETag is not the one remembered. One run per affected charge day, run_key = day + hash of
that day's names and content MD5s: a duplicate delivery (same bytes, new ETag) keeps the run_key
and Dagster skips it; a restated file changes it and the day runs again.
"""

import base64
import datetime as dt
import hashlib
from collections import defaultdict
from typing import Any

import dagster as dg

from finops_assets.ingest.gcs_sensor import days_of_keys
from finops_assets.ingest.sensors import DOWNSTREAM, bucket_sensor_result
from finops_assets.resources.azure_blob_exports import blob_service_client, list_day
from finops_assets.resources.gcs_exports import parse_location
from finops_assets.settings import Settings

OVERLAP = dt.timedelta(seconds=5)


def azure_sources(settings: Settings) -> dict[tuple[str, str], list[str]]:
    """(container, prefix) -> the sources whose exports are read from there."""
    watched: dict[tuple[str, str], list[str]] = defaultdict(list)
    for source, location in sorted(settings.source_locations.items()):
        if location.lower().startswith("az://"):
            watched[parse_location(location, scheme="az")].append(source)
    return dict(watched)


def changed_blobs(container: Any, prefix: str, cursor: dict) -> tuple[list[str], dict]:
    """Names of blobs new or changed since the cursor {since, seen}, and the new cursor."""
    since = dt.datetime.fromisoformat(cursor["since"]) if cursor.get("since") else None
    seen: dict[str, str] = cursor.get("seen", {})
    blobs = list(container.list_blobs(name_starts_with=f"{prefix}/" if prefix else None))
    changed = [
        b.name
        for b in blobs
        if since is None
        or b.last_modified > since
        or (b.last_modified >= since - OVERLAP and seen.get(b.name) != b.etag)
    ]
    if not blobs:
        return changed, cursor
    newest = max(b.last_modified for b in blobs)
    if since is not None:
        newest = max(newest, since)
    window = {b.name: b.etag for b in blobs if b.last_modified >= newest - OVERLAP}
    return sorted(changed), {"since": newest.isoformat(), "seen": window}


def day_run_key(container: Any, prefix: str, sources: list[str], day: str) -> str:
    """day + hash of (name, content MD5 or ETag) of every export blob of that day."""
    digest = hashlib.sha256()
    for source in sources:
        for blob in list_day(container, prefix, source, dt.date.fromisoformat(day)):
            md5 = blob.content_settings.content_md5
            content = base64.b64encode(bytes(md5)).decode() if md5 else blob.etag
            digest.update(f"{blob.name}\0{content}\0".encode())
    return f"{day}:{digest.hexdigest()[:16]}"


def azure_run_requests(service: Any, settings: Settings, cursor: dict) -> tuple[list, dict]:
    """Run requests for every watched container location, and the updated cursor."""
    requests: dict[str, dg.RunRequest] = {}
    updated = dict(cursor)
    for (name, prefix), sources in azure_sources(settings).items():
        container = service.get_container_client(name)
        location = f"az://{name}/{prefix}"
        changed, updated[location] = changed_blobs(container, prefix, cursor.get(location, {}))
        for day in days_of_keys(changed, prefix, sources):
            run_key = day_run_key(container, prefix, sources, day)
            requests[run_key] = dg.RunRequest(run_key=run_key, partition_key=day)
    return list(requests.values()), updated


@dg.sensor(
    asset_selection=DOWNSTREAM,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
)
def azure_blob_export_sensor(context: dg.SensorEvaluationContext):
    """New or restated billing export files in Azure Blob Storage -> one run per charge day."""
    settings = Settings.from_env()
    return bucket_sensor_result(
        context,
        "az",
        "Azure Blob Storage",
        bool(azure_sources(settings)),
        lambda cursor: azure_run_requests(blob_service_client(), settings, cursor),
    )
