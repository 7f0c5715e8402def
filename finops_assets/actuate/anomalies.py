"""Actuate-stage asset cost_anomalies: robust daily anomalies, emitted as CloudEvents."""

import datetime as dt
from collections.abc import Iterator

import dagster as dg
import polars as pl
from dagster import AssetExecutionContext

from finops_assets.actuate.checks import COST_ANOMALIES_SCHEMA
from finops_assets.concurrency import writer_pool
from finops_assets.day_writer import DayEvent, DayWriter
from finops_assets.domain import anomalies as anomalies_domain
from finops_assets.domain.events import event_to_json
from finops_assets.metadata import money_rows
from finops_assets.partitions import SINGLE_RUN, daily_partitions
from finops_assets.resources.events import EventSinksResource
from finops_assets.resources.lake import LakeResource
from finops_assets.storage import tables
from finops_assets.storage.validation import validate_frame

_INPUT = ("x_charge_date", "x_business_unit", "ServiceName", "BillingCurrency", "BilledCost")


@dg.asset(
    pool=writer_pool("cost_anomalies"),
    group_name="actuate",
    partitions_def=daily_partitions,
    backfill_policy=SINGLE_RUN,
    kinds={"delta", "cloudevents"},
    deps=["allocated_costs"],
    check_specs=[
        dg.AssetCheckSpec(
            "check_cost_anomalies_contract",
            asset="cost_anomalies",
            blocking=True,
            partitions_def=daily_partitions,
            description="Each anomaly names its business unit, service and currency, is a spike "
            "or a drop, and rests on at least one day of history.",
        )
    ],
)
def cost_anomalies(
    context: AssetExecutionContext, lake: LakeResource, sinks: EventSinksResource
) -> Iterator[DayEvent]:
    """Spend per business unit and service far from its seasonal median, in billing currency."""
    delta, policy = lake.delta(), anomalies_domain.AnomalyPolicy()
    # memoized over the allocated days of its window (day_memo.py): the whole window, since
    # the first day present in it decides which weeks of history count
    writer = DayWriter(
        context,
        memo=True,
        memo_extra=repr(policy),
        memo_days=lambda day: [day - dt.timedelta(days=n) for n in range(7 * policy.weeks + 1)],
    )
    days = writer.days
    first = min(days) - dt.timedelta(weeks=policy.weeks)
    history = (
        delta.scan(tables.ALLOCATED_COSTS)
        .filter(pl.col("x_charge_date").is_between(first, max(days)))
        .select(_INPUT)
        .collect()
    )
    outbox = sinks.outbox().check()  # an unreachable outbox fails before any day

    def one_day(day: dt.date) -> None:
        window = history.filter(pl.col("x_charge_date") >= day - dt.timedelta(weeks=policy.weeks))
        found = anomalies_domain.cost_anomalies(window.filter(pl.col("x_charge_date") <= day), day)
        shown = ["x_business_unit", "ServiceName", "BillingCurrency", "direction"]
        table = money_rows(found, shown, ["actual", "expected"], "BillingCurrency")
        checks = {"check_cost_anomalies_contract": validate_frame(COST_ANOMALIES_SCHEMA, found)}
        write = lambda: delta.write_day(tables.COST_ANOMALIES, found, day)  # noqa: E731
        metadata = {"anomalies": found.height, "anomalies_table": table}
        if writer.commit(day, checks, write, content=[found], metadata=metadata):
            for event in anomalies_domain.anomaly_events(found):
                outbox.enqueue(event.get_id(), event_to_json(event))

    def deliver() -> dict[str, object]:
        report = outbox.deliver_pending(sinks.sinks(), sinks.retries, sinks.backoff_seconds)
        return {
            "delivered_in_run": len(report.delivered),
            "delivery_failures": dg.MetadataValue.json([list(f) for f in report.failed][:20]),
            "torn_ledger_lines": dg.MetadataValue.json(report.torn[:20]),
        }

    yield from writer.run(one_day, after=deliver)
