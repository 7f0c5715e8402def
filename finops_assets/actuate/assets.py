"""Actuate-stage assets: budget_status and budget_events."""

import datetime as dt

import dagster as dg
import polars as pl
from dagster import AssetExecutionContext

from finops_assets.actuate.checks import BUDGET_EVENTS_SCHEMA, BUDGET_STATUS_SCHEMA
from finops_assets.concurrency import writer_pool
from finops_assets.domain import budgets as budgets_domain
from finops_assets.domain import events as events_domain
from finops_assets.ingest.assets import SINGLE_RUN
from finops_assets.metadata import check_result, markdown_table
from finops_assets.partitions import daily_partitions, partition_days
from finops_assets.resources.budgets import BudgetsResource
from finops_assets.resources.events import EventSinksResource
from finops_assets.resources.lake import LakeResource
from finops_assets.storage import tables
from finops_assets.storage.validation import validate_frame


def _history(delta, day: dt.date) -> pl.DataFrame:
    """Allocated cost from the earlier of the month start and 27 days back, up to `day`."""
    start = min(day.replace(day=1), day - dt.timedelta(days=budgets_domain.HISTORY_DAYS - 1))
    days = [start + dt.timedelta(days=n) for n in range((day - start).days + 1)]
    return delta.read_days(tables.ALLOCATED_COSTS, days)


@dg.asset(
    group_name="actuate",
    pool=writer_pool("budget_status"),
    partitions_def=daily_partitions,
    backfill_policy=SINGLE_RUN,
    kinds={"delta", "polars"},
    deps=["allocated_costs"],
    check_specs=[
        dg.AssetCheckSpec("check_budget_status_contract", asset="budget_status", blocking=True)
    ],
)
def budget_status(context: AssetExecutionContext, lake: LakeResource, budgets: BudgetsResource):
    """Per budget and day: month-to-date actual, forecast to month end, thresholds crossed."""
    delta, configured = lake.delta(), budgets.load(lake.currency())
    frames, failures = [], []
    for day in partition_days(context):
        status = budgets_domain.budget_status(_history(delta, day), configured, day)
        outcome = validate_frame(BUDGET_STATUS_SCHEMA, status)
        if not outcome.passed or status.height != len(configured):
            failures += outcome.failures or [{"day": str(day), "rows": status.height}]
            continue
        delta.write_day(tables.BUDGET_STATUS, status, day)
        frames.append(status)
    latest = frames[-1] if frames else pl.DataFrame()
    over = latest.filter(pl.col("state") != "ok").height if frames else 0
    return dg.MaterializeResult(
        metadata={
            "budgets": len(configured),
            "not_ok_on_last_day": over,
            "last_day": markdown_table(
                latest.select("budget_id", "actual_mtd", "forecast_month_end", "state")
                if frames
                else []
            ),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="check_budget_status_contract",
                passed=all(f.height == len(configured) for f in frames),
            )
        ],
    )


@dg.asset(
    group_name="actuate",
    pool=writer_pool("budget_events"),
    partitions_def=daily_partitions,
    backfill_policy=SINGLE_RUN,
    kinds={"delta", "cloudevents"},
    deps=[budget_status],
    check_specs=[
        dg.AssetCheckSpec("check_budget_events_contract", asset="budget_events", blocking=True)
    ],
)
def budget_events(
    context: AssetExecutionContext,
    lake: LakeResource,
    budgets: BudgetsResource,
    sinks: EventSinksResource,
) -> dg.MaterializeResult:
    """CloudEvents for budget thresholds crossed (or resolved), delivered through the outbox."""
    delta, configured = lake.delta(), budgets.load(lake.currency())
    outbox, raised, failures = sinks.outbox(), 0, []
    for day in partition_days(context):
        earlier = [day.replace(day=n) for n in range(1, day.day)]
        state = events_domain.fired_state(delta.read_days(tables.BUDGET_EVENTS, earlier))
        status = delta.read_day(tables.BUDGET_STATUS, day)
        events = events_domain.budget_threshold_events(status, configured, state)
        frame = events_domain.events_frame(events)
        outcome = validate_frame(BUDGET_EVENTS_SCHEMA, frame)
        if not outcome.passed:
            failures += outcome.failures
            continue
        delta.write_day(tables.BUDGET_EVENTS, frame, day)
        for event in events:
            outbox.enqueue(event.get_id(), events_domain.event_to_json(event))
        raised += len(events)
    # Events are enqueued before the sinks are built: a bad sink URL fails the run, loses nothing.
    targets = sinks.sinks()
    report = outbox.deliver_pending(targets, sinks.retries, sinks.backoff_seconds)
    return dg.MaterializeResult(
        metadata={
            "events_raised": raised,
            "sinks": ", ".join(sink.name for sink in targets),
            "delivered": len(report.delivered),
            "pending_after_delivery": len(outbox.pending([sink.name for sink in targets])),
            "delivery_failures": dg.MetadataValue.json([list(f) for f in report.failed][:20]),
            "torn_ledger_lines": dg.MetadataValue.json(report.torn[:20]),
        },
        check_results=[check_result("check_budget_events_contract", failures)],
    )
