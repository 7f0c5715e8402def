"""Sensors that start ingestion when export files land (embedded default: the landing folder).

The landing sensor starts where the lake is: a file whose bytes the raw archive already holds
needs no run, so switching the sensor on over a loaded lake launches nothing, and a duplicate
delivery launches nothing. Its cursor is a watermark and a listing digest per billing period
(domain.cursors).
"""

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import dagster as dg

from finops_assets.actuate.recommendations import RightsizingConfig
from finops_assets.domain import cursors
from finops_assets.ingest.landing_periods import period_deliveries, period_run_requests
from finops_assets.partitions import daily_partitions
from finops_assets.resources.lake import LakeResource, LandingResource
from finops_assets.settings import sensor_interval_seconds

BILLING_SOURCES_WATCHED = (
    "aws_cur",
    "gcp_billing_export",
    "azure_cost",
    "focus_export",
    "aws_cost_explorer",
    "k8s_usage",
)
# Utilization exports feed rightsizing only (over its lookback window), not the cost graph.
UTILIZATION = "utilization"
WATCHED_SOURCES = (*BILLING_SOURCES_WATCHED, UTILIZATION)
RULES = dg.AssetKey("allocation_rules")
RIGHTSIZING = dg.AssetKey("rightsizing_recommendations")
# A new file re-runs its day through every stage, not only the raw table. Not the rules: a
# landing run allocates with the rule version materialized, it never re-reads the rules file.
DOWNSTREAM = dg.AssetSelection.groups(
    "ingest", "normalize", "allocate", "store", "actuate", "report", "publish"
) - dg.AssetSelection.assets(RULES)
TRIGGER_TAG = "finops/trigger"


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


def cost_keys(context: dg.SensorEvaluationContext) -> list[dg.AssetKey]:
    """Every asset a new billing file re-runs (DOWNSTREAM in the sensor's code location)."""
    return sorted(DOWNSTREAM.resolve(context.repository_def.asset_graph))  # type: ignore[union-attr]


def landed_files(landing: Path) -> list[cursors.LandedFile]:
    """Export files under <landing>/<source>/<day>/ for the watched sources and valid days.

    The change time is the later of mtime and ctime: a file copied in with its old mtime kept
    still counts as changed.
    """
    found = []
    for source in WATCHED_SOURCES:
        for path in sorted((landing / source).glob("*/*")):
            day = path.parent.name
            if path.name.startswith(".") or not daily_partitions.has_partition_key(day):
                continue
            if path.is_file():
                stat = path.stat()
                changed = max(stat.st_mtime_ns, stat.st_ctime_ns)
                rel = str(path.relative_to(landing))
                found.append(cursors.LandedFile(source, day, rel, changed))
    return found


def _digests(landing: Path, files: list[cursors.LandedFile]) -> dict[str, str]:
    return {f.path: cursors.content_digest((landing / f.path).read_bytes()) for f in files}


def landing_run_requests(
    landing: Path,
    lake: LakeResource,
    files: list[cursors.LandedFile],
    cost_keys: list[dg.AssetKey],
    rightsized: set[str],
) -> list[dg.RunRequest]:
    """Runs for the days whose landed bytes the raw archive does not hold yet.

    A day with new billing files runs through the whole graph (`cost_keys`). New utilization
    re-runs rightsizing on the days already `rightsized` whose lookback window holds its day,
    except the days a whole-graph run of this tick covers anyway.
    """
    archive = lake.archive()
    digests = _digests(landing, files)
    billing = [f for f in files if f.source != UTILIZATION]
    usage = [f for f in files if f.source == UTILIZATION]
    billing_days = cursors.days_not_ingested(billing, lambda f: digests[f.path], archive.digests)
    usage_days = cursors.days_not_ingested(usage, lambda f: digests[f.path], archive.digests)
    requests = []
    for day in billing_days:
        day_files = [(p, _digest_of(landing, p, digests)) for p in _day_paths(landing, day)]
        requests.append(
            dg.RunRequest(
                run_key=cursors.day_run_key("", day, day_files),
                partition_key=day,
                asset_selection=cost_keys,
                tags={TRIGGER_TAG: "landing_folder_sensor"},
            )
        )
    for day in usage_days:
        window = _rightsizing_window(day, rightsized - set(billing_days))
        if not window:
            continue
        start, end = window[0], window[-1]
        day_files = [(f.path, digests[f.path]) for f in usage if f.day == day]
        requests.append(
            dg.RunRequest(
                run_key=cursors.day_run_key(f"{UTILIZATION}:", day, day_files),
                asset_selection=[RIGHTSIZING],
                tags={
                    TRIGGER_TAG: "landing_folder_sensor",
                    "dagster/asset_partition_range_start": start,
                    "dagster/asset_partition_range_end": end,
                },
            )
        )
    return requests


def _day_paths(landing: Path, day: str) -> list[str]:
    """Every billing file of a day, the unchanged ones too: the run key covers the whole day."""
    return sorted(
        str(p.relative_to(landing))
        for source in BILLING_SOURCES_WATCHED
        for p in (landing / source / day).glob("*")
        if p.is_file() and not p.name.startswith(".")
    )


def _digest_of(landing: Path, path: str, known: dict[str, str]) -> str:
    if path not in known:
        known[path] = cursors.content_digest((landing / path).read_bytes())
    return known[path]


def _rightsizing_window(day: str, rightsized: set[str]) -> list[str]:
    """The rightsized days whose lookback window reads `day`'s utilization, sorted."""
    first = dt.date.fromisoformat(day)
    reach = [first + dt.timedelta(days=n) for n in range(RightsizingConfig().lookback_days)]
    return sorted(d.isoformat() for d in reach if d.isoformat() in rightsized)


@dg.sensor(
    asset_selection=DOWNSTREAM,
    minimum_interval_seconds=sensor_interval_seconds(),
    default_status=dg.DefaultSensorStatus.STOPPED,
)
def landing_folder_sensor(
    context: dg.SensorEvaluationContext, landing: LandingResource, lake: LakeResource
):
    """New or restated export files in the landing folder -> one run per affected charge day;
    a new or restated billing-period delivery -> one ranged run over its period."""
    folder = landing.folder()
    if not folder.is_dir():
        return dg.SkipReason(f"landing folder {folder} does not exist yet")
    cursor = cursors.decode_cursor(context.cursor)
    day_files = landed_files(folder)
    deliveries = period_deliveries(folder, BILLING_SOURCES_WATCHED)
    files = day_files + [f for d in deliveries for f in d.files]
    examined = cursors.files_to_examine(files, cursor)
    selection = cost_keys(context)
    rightsized = context.instance.get_materialized_partitions(RIGHTSIZING)
    in_days = set(f.path for f in day_files)
    requests = landing_run_requests(
        folder, lake, [f for f in examined if f.path in in_days], selection, rightsized
    )
    requests += period_run_requests(
        folder,
        lake.archive(),
        deliveries,
        {f.path for f in examined},
        selection,
        {TRIGGER_TAG: "landing_folder_sensor"},
    )
    context.update_cursor(cursors.encode_cursor(cursors.advance_cursor(cursor, files)))
    if not requests:
        return dg.SkipReason(
            f"nothing new: {len(examined)} of {len(files)} files in {folder} changed since the "
            "last tick, and the raw archive already holds their bytes"
        )
    return requests
