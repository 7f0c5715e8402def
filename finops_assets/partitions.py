"""The charge-day partitions every cost asset shares (UTC days)."""

import datetime as dt
import warnings

from dagster import (
    AssetExecutionContext,
    BackfillPolicy,
    BetaWarning,
    DailyPartitionsDefinition,
    PreviewWarning,
)

from finops_assets.settings import partitions_start

# Every cost asset takes `backfill_policy` (single-run backfills), which Dagster 1.13 marks beta and
# warns about once per asset in every process that loads the code (17 lines per start, thousands
# in dev.log). Every asset module imports this one, so exactly that warning is silenced here.
warnings.filterwarnings(
    "ignore",
    message=r"Parameter `backfill_policy` of function `(multi_)?asset` is currently in beta",
    category=BetaWarning,
)
# Each check of a day-partitioned asset is partitioned too (its results carry their day), which
# Dagster 1.13 marks preview and warns about once per check spec (pinned: dagster_private).
warnings.filterwarnings(
    "ignore",
    message=r"Specifying a partitions_def on an AssetCheckSpec is currently in preview",
    category=PreviewWarning,
)

# FINOPS_PARTITIONS_START, read when the code location loads (default: the sample's first day).
PARTITIONS_START = partitions_start()

daily_partitions = DailyPartitionsDefinition(start_date=PARTITIONS_START, timezone="UTC")


def partition_days(context: AssetExecutionContext) -> list[dt.date]:
    """The charge days a run covers: one for a single partition, many for a ranged backfill."""
    return [dt.date.fromisoformat(key) for key in context.partition_keys]


def check_partition_key(key: str) -> dt.date:
    """A day from a partition key, refused with a clear message when outside the definition."""
    if not daily_partitions.has_partition_key(key):
        raise ValueError(
            f"partition {key!r} is not a day of the daily partitions starting {PARTITIONS_START}"
            " (format YYYY-MM-DD, not in the future)"
        )
    return dt.date.fromisoformat(key)


# Every day-partitioned asset runs a range of days (a backfill) in one run, not one per day.
SINGLE_RUN = BackfillPolicy.single_run()

# Assets run only on request (a candidate to review, e.g. allocation_preview): never by the
# demo's whole-graph run, a restatement or the re-allocation after a rule change.
REVIEW_GROUP = "review"
