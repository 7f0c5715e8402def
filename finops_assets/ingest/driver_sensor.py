"""allocation_drivers_sensor: a new or changed driver file re-allocates the days it covers.

A driver file (landing/drivers/<name>/<YYYY-MM-DD or YYYY-MM>.csv) covers the charge days its
`day` column names within its period. A day needs a run when one of its files holds bytes the
raw archive does not hold for that day yet; the run lands the day's driver rows and
re-allocates it (allocation_drivers_raw, applicable_rules, allocated_costs and everything after
it but the preview). A file that cannot be read launches its days' run anyway: the run fails
naming it, which is what the analyst needs to see.
"""

import datetime as dt
import io
from pathlib import Path

import dagster as dg
import polars as pl

from finops_assets.allocate.sensors import SENSOR_SELECTION
from finops_assets.domain import cursors
from finops_assets.domain.driver_files import SOURCE, file_period
from finops_assets.domain.sources.common import SourceFormatError
from finops_assets.ingest.driver_assets import DRIVERS_FOLDER
from finops_assets.partitions import daily_partitions
from finops_assets.resources.lake import LakeResource, LandingResource
from finops_assets.settings import sensor_interval_seconds

DRIVERS_KEY = dg.AssetKey("allocation_drivers_raw")
DRIVER_SELECTION = SENSOR_SELECTION | dg.AssetSelection.assets(DRIVERS_KEY)
TRIGGER_TAG = "finops/trigger"


def file_days(path: Path, relative: str) -> list[str]:
    """The partition days a driver file covers: the readable days of its `day` column inside
    its period (a file that cannot be read: every day of its period that is a partition)."""
    try:
        first, last = file_period(relative)
    except SourceFormatError:
        return []
    period = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    try:
        column = pl.read_csv(io.BytesIO(path.read_bytes()), columns=["day"], infer_schema=False)
        named = column["day"].str.strip_chars().str.strptime(pl.Date, "%Y-%m-%d", strict=False)
        days = sorted(set(named.drop_nulls().to_list()) & set(period))
    except (pl.exceptions.PolarsError, OSError):
        days = period
    return [d.isoformat() for d in days if daily_partitions.has_partition_key(d.isoformat())]


def driver_run_requests(
    landing: Path, lake: LakeResource, selection: list[dg.AssetKey]
) -> list[dg.RunRequest]:
    """One run of `selection` per day whose driver files hold bytes the archive lacks."""
    folder = landing / DRIVERS_FOLDER
    if not folder.is_dir():
        return []
    archive = lake.archive()
    by_day: dict[str, list[tuple[str, str]]] = {}
    for path in sorted(folder.glob("*/*.csv")):
        if path.name.startswith(".") or not path.is_file():
            continue
        relative = path.relative_to(landing / DRIVERS_FOLDER).as_posix()
        digest = cursors.content_digest(path.read_bytes())
        for day in file_days(path, f"{DRIVERS_FOLDER}/{relative}"):
            by_day.setdefault(day, []).append((relative, digest))
    requests = []
    for day, files in sorted(by_day.items()):
        if {digest for _, digest in files} <= archive.digests(SOURCE, day):
            continue
        requests.append(
            dg.RunRequest(
                run_key=cursors.day_run_key(f"{SOURCE}:", day, files),
                partition_key=day,
                asset_selection=selection,
                tags={TRIGGER_TAG: "allocation_drivers_sensor"},
            )
        )
    return requests


@dg.sensor(
    asset_selection=DRIVER_SELECTION,
    minimum_interval_seconds=sensor_interval_seconds(),
    default_status=dg.DefaultSensorStatus.STOPPED,
)
def allocation_drivers_sensor(
    context: dg.SensorEvaluationContext, landing: LandingResource, lake: LakeResource
):
    """New or changed driver files in landing/drivers/ -> one run per charge day they cover,
    landing the day's drivers and re-allocating it."""
    graph = context.repository_def.asset_graph  # type: ignore[union-attr]
    selection = sorted(DRIVER_SELECTION.resolve(graph))
    requests = driver_run_requests(landing.folder(), lake, selection)
    if not requests:
        return dg.SkipReason(
            f"no driver file in {landing.folder() / DRIVERS_FOLDER} holds bytes the raw "
            "archive does not hold yet"
        )
    return requests
