"""Sensors that start ingestion when export files land (embedded default: the landing folder)."""

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import dagster as dg

from finops_assets.partitions import daily_partitions
from finops_assets.resources.lake import LandingResource

WATCHED_SOURCES = (
    "aws_cur",
    "gcp_billing_export",
    "azure_cost",
    "focus_export",
    "aws_cost_explorer",
    "k8s_usage",
)
# A new file re-runs its day through every stage, not only the raw table.
DOWNSTREAM = dg.AssetSelection.groups("ingest", "normalize", "allocate", "store", "actuate")


def bucket_sensor_result(
    context: dg.SensorEvaluationContext,
    scheme: str,
    store: str,
    has_sources: bool,
    run_requests: Callable[[dict], tuple[list[dg.RunRequest], dict]],
) -> list[dg.RunRequest] | dg.SkipReason:
    """The body every object-store export sensor shares: cursor in, run requests out.

    `run_requests(cursor)` lists what changed since the cursor and returns the requests and the
    new cursor, which is saved even when nothing needs a run.
    """
    if not has_sources:
        return dg.SkipReason(
            f"no source is read from {scheme}:// (set FINOPS_SOURCE_<SOURCE>={scheme}://...)"
        )
    cursor = json.loads(context.cursor) if context.cursor else {}
    requests, updated = run_requests(cursor)
    context.update_cursor(json.dumps(updated, sort_keys=True))
    if not requests:
        return dg.SkipReason(f"no new export files in {store} (none added or restated)")
    return requests


def changed_files(landing: Path, cursor: dict[str, int]) -> tuple[dict[str, int], list[Path]]:
    """Files under <landing>/<source>/<day>/ whose mtime differs from the cursor (path -> mtime_ns)."""
    current: dict[str, int] = {}
    for source in WATCHED_SOURCES:
        for path in sorted((landing / source).glob("*/*")):
            if path.is_file() and not path.name.startswith("."):
                current[str(path.relative_to(landing))] = path.stat().st_mtime_ns
    changed = [landing / rel for rel, mtime in current.items() if cursor.get(rel) != mtime]
    return current, changed


def run_requests_for(landing: Path, changed: list[Path]) -> list[dg.RunRequest]:
    """One run per affected day; run_key = day + hash of that day's file contents.

    A duplicate delivery (same bytes) gives the same run_key and Dagster skips it; a restated
    file changes the hash and runs the day again.
    """
    days = sorted(
        {p.parent.name for p in changed if daily_partitions.has_partition_key(p.parent.name)}
    )
    requests = []
    for day in days:
        digest = hashlib.sha256()
        for path in sorted(landing.glob(f"*/{day}/*")):
            if path.is_file() and not path.name.startswith("."):
                digest.update(str(path.relative_to(landing)).encode())
                digest.update(hashlib.sha256(path.read_bytes()).digest())
        requests.append(
            dg.RunRequest(run_key=f"{day}:{digest.hexdigest()[:16]}", partition_key=day)
        )
    return requests


@dg.sensor(
    asset_selection=DOWNSTREAM,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.STOPPED,
)
def landing_folder_sensor(context: dg.SensorEvaluationContext, landing: LandingResource):
    """New or restated export files in the landing folder -> one run per affected charge day."""
    folder = landing.folder()
    if not folder.is_dir():
        return dg.SkipReason(f"landing folder {folder} does not exist yet")
    cursor = json.loads(context.cursor) if context.cursor else {}
    current, changed = changed_files(folder, cursor)
    requests = run_requests_for(folder, changed)
    context.update_cursor(json.dumps(current, sort_keys=True))
    if not requests:
        return dg.SkipReason(f"no new files among {len(current)} in {folder}")
    return requests
