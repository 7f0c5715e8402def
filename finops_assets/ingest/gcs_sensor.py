"""Sensor for billing export files landing in Google Cloud Storage.

Watches every source configured as FINOPS_SOURCE_<SOURCE>=gs://bucket/prefix. New keys come from
dagster-gcp's `get_gcs_keys` (sorted by update time, after the cursor key); one run per affected
charge day with run_key = day + hash of the distinct contents (source, SHA-256) of that day's
files, so the same bytes again (a new generation) or under another name map to the same run_key
and Dagster skips it, while a restated file changes the hash and runs the day again. `get_gcs_keys` returns every key again
when the cursor key disappears; the run_key dedupe makes that harmless. A changed day whose files
the raw archive holds already needs no run, so a first tick over a loaded lake launches nothing.

Month folders `<prefix>/<source>/<YYYY-MM>/` are billing-period deliveries, watched by
ingest.bucket_deliveries: one ranged run over the month per new delivery.
"""

import datetime as dt
from collections import defaultdict
from typing import Any

import dagster as dg
from dagster_gcp import GCSResource
from dagster_gcp.gcs.sensor import get_gcs_keys

from finops_assets.domain import cursors
from finops_assets.ingest.bucket_deliveries import (
    PERIODS,
    content_digests,
    delivery_run_requests,
    digests_archived,
)
from finops_assets.ingest.sensors import DOWNSTREAM, TRIGGER_TAG, bucket_sensor_result, cost_keys
from finops_assets.partitions import daily_partitions
from finops_assets.resources.gcs_exports import (
    GcsExports,
    GcsReader,
    parse_location,
)
from finops_assets.resources.lake import LakeResource
from finops_assets.resources.payloads import LandingError, Payload
from finops_assets.settings import Settings
from finops_assets.storage.archive import RawArchive


def gcs_sources(settings: Settings) -> dict[tuple[str, str], list[str]]:
    """(bucket, prefix) -> the sources whose exports are read from there."""
    watched: dict[tuple[str, str], list[str]] = defaultdict(list)
    for source, location in sorted(settings.source_locations.items()):
        if location.lower().startswith("gs://"):
            watched[parse_location(location)].append(source)
    return dict(watched)


def days_of_keys(keys: list[str], prefix: str, sources: list[str]) -> list[str]:
    """Partition days named by `<prefix>/<source>/<day>/<file>` keys of watched sources."""
    head = f"{prefix}/" if prefix else ""
    days = set()
    for key in keys:
        parts = key[len(head) :].split("/") if key.startswith(head) else []
        if len(parts) == 3 and parts[0] in sources and daily_partitions.has_partition_key(parts[1]):
            days.add(parts[1])
    return sorted(days)


def new_keys(client: Any, bucket: str, prefix: str, cursor: dict) -> tuple[list[str], dict]:
    """Keys updated since the cursor key, and the new cursor {key, generation}.

    `get_gcs_keys` cannot see a rewrite of the cursor key itself (it stays the last key), so
    the cursor also keeps that object's generation and a changed generation counts as new.
    """
    since = cursor.get("key")
    keys = get_gcs_keys(bucket, prefix=prefix or None, since_key=since, gcs_session=client)
    if since and not keys:
        blob = client.bucket(bucket).get_blob(since)
        if blob is not None and blob.generation != cursor.get("generation"):
            keys = [since]
    if not keys:
        return [], cursor
    last = client.bucket(bucket).get_blob(keys[-1])
    return keys, {"key": keys[-1], "generation": last.generation if last else None}


def day_contents(exports: GcsExports, client: Any, sources: list[str], day: str) -> list:
    """(source, bytes) of every file of a day folder; a refused file reads as b"" (its run then
    fails naming it)."""
    contents: list[tuple[str, bytes]] = []
    for source in sources:
        try:
            payloads = exports.day_payloads(client, source, dt.date.fromisoformat(day))
        except LandingError:
            payloads = [Payload("refused", b"", dt.datetime.now(dt.UTC))]
        contents += [(source, p.data) for p in payloads]
    return contents


def gcs_run_requests(
    client: Any,
    settings: Settings,
    cursor: dict,
    archive: RawArchive,
    cost_keys: list[dg.AssetKey],
) -> tuple[list, dict]:
    """Run requests for every watched GCS location, and the updated cursor.

    Day folders: one run per changed day whose bytes the raw archive does not hold yet. Month
    folders: one ranged run per new month delivery (bucket_deliveries).
    """
    requests: dict[str, dg.RunRequest] = {}
    updated = dict(cursor)
    watched = []
    for (bucket, prefix), sources in gcs_sources(settings).items():
        location = f"gs://{bucket}/{prefix}"
        keys, updated[location] = new_keys(client, bucket, prefix, cursor.get(location, {}))
        exports = GcsExports(bucket, prefix, lambda: client)
        for day in days_of_keys(keys, prefix, sources):
            digests = content_digests(day_contents(exports, client, sources, day))
            if digests_archived(archive, day, digests):
                continue
            run_key = cursors.content_run_key(day, digests)
            requests[run_key] = dg.RunRequest(run_key=run_key, partition_key=day)
        watched += [(s, "months", GcsReader(exports, client, within=s)) for s in sources]
    periods, updated[PERIODS] = delivery_run_requests(
        watched, archive, cursor, cost_keys, {TRIGGER_TAG: "gcs_export_sensor"}
    )
    return list(requests.values()) + periods, updated


@dg.sensor(
    asset_selection=DOWNSTREAM,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
)
def gcs_export_sensor(context: dg.SensorEvaluationContext, gcs: GCSResource, lake: LakeResource):
    """New or restated billing export files in GCS -> one run per affected charge day; a new
    month delivery -> one ranged run over its month."""
    settings = Settings.from_env()
    return bucket_sensor_result(
        context,
        "gs",
        "GCS",
        bool(gcs_sources(settings)),
        lambda cursor: gcs_run_requests(
            gcs.get_client(), settings, cursor, lake.archive(), cost_keys(context)
        ),
    )
