"""Actuate-stage asset cost_anomalies: robust daily anomalies, emitted as CloudEvents."""

import datetime as dt

import dagster as dg
import polars as pl
from dagster import AssetExecutionContext

from finops_assets.actuate.checks import COST_ANOMALIES_SCHEMA
from finops_assets.concurrency import writer_pool
from finops_assets.domain import anomalies as anomalies_domain
from finops_assets.domain.events import event_to_json
from finops_assets.ingest.assets import SINGLE_RUN
from finops_assets.metadata import check_result, markdown_table
from finops_assets.partitions import daily_partitions, partition_days
from finops_assets.resources.events import EventSinksResource
from finops_assets.resources.lake import LakeResource
from finops_assets.storage import tables
from finops_assets.storage.validation import validate_frame

_INPUT = ("x_charge_date", "x_business_unit", "ServiceName", "BillingCurrency", "BilledCost")


@dg.asset(
    group_name="actuate",
    pool=writer_pool("cost_anomalies"),
    partitions_def=daily_partitions,
    backfill_policy=SINGLE_RUN,
    kinds={"delta", "cloudevents"},
    deps=["allocated_costs"],
    check_specs=[
        dg.AssetCheckSpec("check_cost_anomalies_contract", asset="cost_anomalies", blocking=True)
    ],
)
def cost_anomalies(
    context: AssetExecutionContext, lake: LakeResource, sinks: EventSinksResource
) -> dg.MaterializeResult:
    """Spend per business unit and service far from its seasonal median, in billing currency."""
    delta, days = lake.delta(), partition_days(context)
    policy = anomalies_domain.AnomalyPolicy()
    first = min(days) - dt.timedelta(weeks=policy.weeks)
    history = (
        delta.scan(tables.ALLOCATED_COSTS)
        .filter(pl.col("x_charge_date").is_between(first, max(days)))
        .select(_INPUT)
        .collect()
    )
    outbox, frames, failures = sinks.outbox(), list[pl.DataFrame](), list[dict]()
    for day in days:
        window = history.filter(pl.col("x_charge_date") >= day - dt.timedelta(weeks=policy.weeks))
        found = anomalies_domain.cost_anomalies(window.filter(pl.col("x_charge_date") <= day), day)
        outcome = validate_frame(COST_ANOMALIES_SCHEMA, found)
        if not outcome.passed:
            failures += outcome.failures
            continue
        delta.write_day(tables.COST_ANOMALIES, found, day)
        for event in anomalies_domain.anomaly_events(found):
            outbox.enqueue(event.get_id(), event_to_json(event))
        frames.append(found)
    targets = sinks.sinks()
    report = outbox.deliver_pending(targets, sinks.retries, sinks.backoff_seconds)
    found_all = pl.concat(frames) if frames else pl.DataFrame()
    shown = ["x_charge_date", "x_business_unit", "ServiceName", "BillingCurrency"]
    shown += ["actual", "expected", "score"]
    return dg.MaterializeResult(
        metadata={
            "anomalies": found_all.height,
            "delivered": len(report.delivered),
            "delivery_failures": dg.MetadataValue.json([list(f) for f in report.failed][:20]),
            "torn_ledger_lines": dg.MetadataValue.json(report.torn[:20]),
            "anomalies_table": markdown_table(found_all.select(shown) if frames else []),
        },
        check_results=[check_result("check_cost_anomalies_contract", failures)],
    )
