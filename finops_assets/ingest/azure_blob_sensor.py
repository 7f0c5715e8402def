"""Sensor for billing export files landing in Azure Blob Storage (FINOPS_SOURCE_<S>=az://...).

Blob listings cannot filter by time on the server, so the whole prefix is listed and the cursor
keeps the newest last-modified time seen plus name -> ETag of the blobs modified within OVERLAP
of it (last-modified has one-second resolution): a blob is new when it is newer than that window
or its ETag is not the one remembered. One run per affected charge day, run_key = day + hash of
the distinct contents (source, SHA-256) of that day's blobs: the same bytes again (new ETag) or
under another name keep the run_key and Dagster skips it; a restated file changes it. A changed day whose
files the raw archive holds already needs no run: a first tick over a loaded lake launches none.

Cost Management exports in Azure's own layout (`?layout=exports`, see azure_blob_exports) are
watched by billing-period delivery (ingest.bucket_deliveries): the newest run folder of a period
is its delivery, one ranged run over the period per new delivery.
"""

import datetime as dt
from collections import defaultdict
from typing import Any

import dagster as dg

from finops_assets.domain import cursors
from finops_assets.ingest.bucket_deliveries import (
    PERIODS,
    content_digests,
    delivery_run_requests,
    digests_archived,
)
from finops_assets.ingest.gcs_sensor import days_of_keys
from finops_assets.ingest.sensors import DOWNSTREAM, TRIGGER_TAG, bucket_sensor_result, cost_keys
from finops_assets.resources.azure_blob_exports import (
    AzureBlobResource,
    AzureReader,
    list_day,
    parse_az_location,
)
from finops_assets.resources.gcs_exports import parse_location
from finops_assets.resources.lake import LakeResource
from finops_assets.resources.payloads import LandingError
from finops_assets.settings import Settings
from finops_assets.storage.archive import RawArchive

OVERLAP = dt.timedelta(seconds=5)


def azure_sources(settings: Settings) -> dict[tuple[str, str], list[str]]:
    """(container, prefix) -> the sources whose day folders are read from there."""
    watched: dict[tuple[str, str], list[str]] = defaultdict(list)
    for source, location in sorted(settings.source_locations.items()):
        if location.lower().startswith("az://") and parse_az_location(location)[2] == "days":
            watched[parse_location(location, scheme="az")].append(source)
    return dict(watched)


def azure_native_locations(settings: Settings) -> list[tuple[str, str, str, str]]:
    """(source, layout, container, prefix) of the sources read as Cost Management exports."""
    native = []
    for source, location in sorted(settings.source_locations.items()):
        if location.lower().startswith("az://"):
            container, prefix, layout = parse_az_location(location)
            if layout != "days":
                native.append((source, layout, container, prefix))
    return native


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


def day_contents(container: Any, prefix: str, sources: list[str], day: str) -> list:
    """(source, bytes) of every export blob of a day folder; a refused one reads as b"" (its
    run then fails naming it)."""
    contents: list[tuple[str, bytes]] = []
    for source in sources:
        try:
            blobs = list_day(container, prefix, source, dt.date.fromisoformat(day))
        except LandingError:
            contents.append((source, b""))
            continue
        contents += [(source, container.download_blob(b.name).readall()) for b in blobs]
    return contents


def azure_run_requests(
    service: Any,
    settings: Settings,
    cursor: dict,
    archive: RawArchive,
    cost_keys: list[dg.AssetKey],
) -> tuple[list, dict]:
    """Run requests for every watched container location, and the updated cursor.

    Day folders: one run per changed day whose bytes the raw archive does not hold yet. Cost
    Management exports: one ranged run per new delivery (bucket_deliveries).
    """
    requests: dict[str, dg.RunRequest] = {}
    updated = dict(cursor)
    for (name, prefix), sources in azure_sources(settings).items():
        container = service.get_container_client(name)
        location = f"az://{name}/{prefix}"
        changed, updated[location] = changed_blobs(container, prefix, cursor.get(location, {}))
        for day in days_of_keys(changed, prefix, sources):
            digests = content_digests(day_contents(container, prefix, sources, day))
            if digests_archived(archive, day, digests):
                continue
            run_key = cursors.content_run_key(day, digests)
            requests[run_key] = dg.RunRequest(run_key=run_key, partition_key=day)
    watched = [
        (source, layout, AzureReader(service.get_container_client(name), prefix))
        for source, layout, name, prefix in azure_native_locations(settings)
    ]
    periods, updated[PERIODS] = delivery_run_requests(
        watched, archive, cursor, cost_keys, {TRIGGER_TAG: "azure_blob_export_sensor"}
    )
    return list(requests.values()) + periods, updated


@dg.sensor(
    asset_selection=DOWNSTREAM,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
)
def azure_blob_export_sensor(
    context: dg.SensorEvaluationContext, lake: LakeResource, azure_blob: AzureBlobResource
):
    """New or restated billing export files in Azure Blob Storage -> one run per charge day; a
    new Cost Management export run -> one ranged run over its billing period."""
    settings = Settings.from_env()
    watched = bool(azure_sources(settings) or azure_native_locations(settings))
    return bucket_sensor_result(
        context,
        "az",
        "Azure Blob Storage",
        watched,
        lambda cursor: azure_run_requests(
            azure_blob.get_client(),
            settings,
            cursor,
            lake.archive(),
            cost_keys(context),
        ),
    )
