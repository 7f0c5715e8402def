"""applicable_rules: per charge day, the allocation rule version whose window contains it.

It sits between allocation_rules (the whole, unpartitioned history) and allocated_costs. Its
per-day data version is the applicable version's own data version, so materializing a new
history re-materializes every day but changes the version, and makes allocated_costs stale,
only on the days whose applicable version changed (Dagster compares data versions per
partition).
"""

import datetime as dt
from collections.abc import Iterator

import dagster as dg
from dagster import AssetExecutionContext

from finops_assets.allocate.rules_versions import history_in_force
from finops_assets.concurrency import writer_pool
from finops_assets.dagster_private import DATA_VERSION_TAG
from finops_assets.day_writer import DayEvent, DayWriter
from finops_assets.domain.rule_history import applicable_row
from finops_assets.partitions import SINGLE_RUN, daily_partitions
from finops_assets.resources.lake import LakeResource
from finops_assets.storage import tables

RULES_KEY = dg.AssetKey("allocation_rules")
APPLICABLE_KEY = dg.AssetKey("applicable_rules")


def materialized_rules_version(instance: dg.DagsterInstance) -> str | None:
    """The data version of the latest allocation_rules materialization (None: never)."""
    event = instance.get_latest_materialization_event(RULES_KEY)
    materialization = event.asset_materialization if event else None
    return (materialization.tags or {}).get(DATA_VERSION_TAG) if materialization else None


@dg.asset(
    group_name="allocate",
    pool=writer_pool("applicable_rules"),
    partitions_def=daily_partitions,
    backfill_policy=SINGLE_RUN,
    kinds={"delta"},
    deps=[RULES_KEY],
)
def applicable_rules(context: AssetExecutionContext, lake: LakeResource) -> Iterator[DayEvent]:
    """Which rule version applies to each charge day (effective_from, restate_from, effective_to).

    Read from the rule history allocation_rules last materialized; its data version per day is
    that version's, so only the days whose version changed make allocated_costs stale.
    """
    delta = lake.delta()
    history = history_in_force(delta, materialized_rules_version(context.instance))
    days = DayWriter(context)

    def one_day(day: dt.date) -> None:
        row = applicable_row(history, day)
        version = row.row(0, named=True)
        days.commit(
            day,
            {},
            lambda: delta.write_day(tables.APPLICABLE_RULES, row, day),
            content=str(version["data_version"]),
            metadata={
                "rules_version": version["rules_version"],
                "rules_data_version": version["data_version"],
                "applies_from": str(version["applies_from"] or "-"),
                "effective_to": str(version["effective_to"] or "-"),
                "restate_reason": version["reason"] or "-",
                "history_version": history.data_version,
            },
        )

    yield from days.run(one_day)
