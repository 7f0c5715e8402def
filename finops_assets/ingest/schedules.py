"""Restatement: providers revise recent days, so the API sources are re-ingested on a schedule.

Cost Explorer and the Azure Query API keep changing the last days (late usage, credits,
`Estimated` turning final) and the previous month until the invoice closes. Every day the
schedule re-ingests the trailing window, as one ranged run (the assets have a single-run
backfill policy), through every stage downstream:

- the last FINOPS_RESTATEMENT_DAYS complete days (default 3), and
- until day FINOPS_RESTATEMENT_CLOSE_DAY of the month (default 5), the whole previous month too.

Re-ingesting is idempotent: each day is replaced, never appended to.
"""

import datetime as dt

import dagster as dg

from finops_assets.partitions import PARTITIONS_START, REVIEW_GROUP
from finops_assets.settings import Settings

API_SOURCES_RAW = ("aws_cost_explorer_raw", "azure_cost_raw")
# The API sources and everything after them, with each day's allocation rule version (a day
# fetched for the first time has none yet); not the review group (run on request only).
RESTATED = (
    dg.AssetSelection.assets(*API_SOURCES_RAW).downstream()
    | dg.AssetSelection.assets("applicable_rules")
) - dg.AssetSelection.groups(REVIEW_GROUP)
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
FIRST_DAY = dt.date.fromisoformat(PARTITIONS_START)


def restatement_window(
    today: dt.date,
    trailing_days: int = 3,
    close_day: int = 5,
    first_day: dt.date = FIRST_DAY,
) -> tuple[dt.date, dt.date] | None:
    """The (first, last) charge days to re-ingest on `today`, inclusive; None when empty.

    The last `trailing_days` complete days (today is not complete), and from the first day of
    the previous month while `today.day <= close_day`; never before `first_day`.
    """
    last = today - dt.timedelta(days=1)
    start = today - dt.timedelta(days=trailing_days)
    if today.day <= close_day:
        previous_month_start = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
        start = min(start, previous_month_start)
    start = max(start, first_day)
    if trailing_days < 1 or start > last:
        return None
    return start, last


@dg.schedule(
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    target=RESTATED,
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
def restatement_schedule(context: dg.ScheduleEvaluationContext):
    """Daily re-ingestion of the API sources' restatement window, as one ranged run."""
    scheduled = context.scheduled_execution_time or dt.datetime.now(dt.UTC)
    today = scheduled.astimezone(dt.UTC).date()
    settings = Settings.from_env()
    window = restatement_window(today, settings.restatement_days, settings.restatement_close_day)
    if window is None:
        return dg.SkipReason(f"no complete day to restate on {today}")
    start, end = window
    return dg.RunRequest(
        run_key=f"restate:{today.isoformat()}",
        tags={
            RANGE_START_TAG: start.isoformat(),
            RANGE_END_TAG: end.isoformat(),
            "finops/trigger": "restatement_schedule",
        },
    )
