"""pending_adjustments: what the rules in force would move on the days of closed periods.

allocated_costs keeps a closed day's booked rows (closed_periods.py). This asset allocates
the day again with the version applicable_rules holds for it now, on the normalized rows of
now, and keeps per business unit and currency the booked and would-be amounts and the delta,
with the cause. Its check warns on each such day, naming the period. A day of an open period
has no pending adjustment (an empty day), so a reopened and re-allocated day clears.
"""

import datetime as dt
from collections.abc import Iterator

import dagster as dg
import polars as pl
from dagster import AssetExecutionContext

from finops_assets.allocate.applicable import applicable_rules
from finops_assets.allocate.closed_periods import closed_set
from finops_assets.allocate.day import READ_COLUMNS, driver_rows_for
from finops_assets.allocate.fx_policy import LockedRates
from finops_assets.allocate.rules_versions import rules_in_force
from finops_assets.allocate.versions import allocation_versions
from finops_assets.concurrency import writer_pool
from finops_assets.day_writer import CheckOutcome, DayEvent, DayWriter
from finops_assets.domain.allocate import allocate_costs
from finops_assets.domain.audit_inputs import InputVersion, input_version
from finops_assets.domain.events import event_to_json
from finops_assets.domain.periods import (
    adjustment_cause,
    pending_adjustments_day,
    pending_event,
    period_of,
)
from finops_assets.partitions import SINGLE_RUN, daily_partitions
from finops_assets.resources.events import EventSinksResource
from finops_assets.resources.lake import LakeResource
from finops_assets.resources.reference import FxRatesResource
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake
from finops_assets.storage.fingerprint import frames_fingerprint

CHECK = "check_no_pending_adjustments"


def _versions(frame: pl.DataFrame) -> str:
    return ",".join(sorted(set(frame["x_allocation_rule_version"].drop_nulls().to_list())))


def would_move(
    delta: DeltaLake, day: dt.date, locked: LockedRates, base_currency: str
) -> pl.DataFrame:
    """The closed `day`'s pending adjustments: booked vs the rules in force (PENDING_COLUMNS).

    The would-be side is computed as allocated_costs would: the day's rule version, its FX
    policy (locked: the month's rate) and the normalized rows and usage of now.
    """
    read = delta.read_day_columns(tables.NORMALIZED_COSTS, day, READ_COLUMNS)
    usage = delta.read_day(tables.K8S_USAGE_RAW, day)
    rules = rules_in_force(delta, day)
    drivers = driver_rows_for(delta, day, rules)
    convert = locked.converter(rules.fx, day, base_currency)
    would_be = allocate_costs(convert(read), rules, usage, driver_rows=drivers)
    booked = delta.read_day(tables.ALLOCATED_COSTS, day)
    recorded = allocation_versions(delta, day)
    booked_inputs = InputVersion.parse(recorded["x_input_version"][0]) if recorded.height else None
    now_inputs = input_version([read], usage, drivers)  # as read, before the FX policy
    cause = adjustment_cause(_versions(booked), _versions(would_be), booked_inputs, now_inputs)
    return pending_adjustments_day(day, booked, would_be, cause)


def _alert(day: dt.date, frame: pl.DataFrame, closed: bool) -> CheckOutcome:
    """The day's warning: each unit that would move, and a message naming the period."""
    period = period_of(day)
    if frame.is_empty():
        message = f"{day}: nothing pending" + (f" (period {period} closed)" if closed else "")
    else:
        message = (
            f"period {period} is closed: on {day}, {frame.height} business unit(s) would move "
            f"(cause: {frame['cause'][0]}); booked figures kept until "
            f"`finops reopen {period} --reason ...` and a re-allocation"
        )
    rows = frame.select(
        "x_business_unit",
        "x_base_currency",
        "billed_cost_booked",
        "billed_cost_would_be",
        "billed_cost_delta",
        "cause",
    ).to_dicts()
    return CheckOutcome(rows, {"period": period, "period_closed": closed, "message": message})


@dg.asset(
    group_name="allocate",
    pool=writer_pool("pending_adjustments"),
    partitions_def=daily_partitions,
    backfill_policy=SINGLE_RUN,
    kinds={"delta", "polars"},
    deps=["normalized_costs", "k8s_usage_raw", applicable_rules, "allocated_costs"],
    check_specs=[
        dg.AssetCheckSpec(
            CHECK,
            asset="pending_adjustments",
            blocking=False,
            partitions_def=daily_partitions,
            description="Warns on a day of a closed period whose booked allocation the rules, "
            "restatements or FX rates in force would move (per unit: booked, would-be, delta).",
        )
    ],
)
def pending_adjustments(
    context: AssetExecutionContext,
    lake: LakeResource,
    sinks: EventSinksResource,
    rates: FxRatesResource,
) -> Iterator[DayEvent]:
    """Per closed day, business unit and currency: booked, would-be, delta, and the cause.

    Days of open periods hold nothing (their allocation is booked as it is computed); a
    closed day holds what a re-allocation would move, until the period is reopened. Each
    closed day with pending rows is also a CloudEvent, enqueued in the outbox and delivered
    to the configured sinks as budget events are (only when there is one: open days send
    nothing).
    """
    delta = lake.delta()
    closed = closed_set(delta)
    days = DayWriter(context)
    held = delta.exists(tables.PENDING_ADJUSTMENTS)
    locked, base = LockedRates(rates, days.days), lake.currency()
    alerts: list[tuple[str, bytes]] = []

    def one_day(day: dt.date) -> None:
        is_closed = period_of(day) in closed
        frame = (
            would_move(delta, day, locked, base)
            if is_closed
            else tables.PENDING_ADJUSTMENTS.empty_frame()
        )
        stale_rows = held and delta.count_day(tables.PENDING_ADJUSTMENTS, day) > 0
        if not frame.is_empty():
            event = pending_event(day, frame, frames_fingerprint([frame], ""))
            alerts.append((event.get_id(), event_to_json(event)))
        days.commit(
            day,
            {CHECK: _alert(day, frame, is_closed)},
            lambda: (
                delta.write_day(tables.PENDING_ADJUSTMENTS, frame, day)
                if is_closed or stale_rows
                else None
            ),
            content=[frame],
            metadata={
                "period": period_of(day),
                "period_closed": is_closed,
                "units_pending": frame.height,
            },
        )

    def deliver() -> dict[str, object]:
        if not alerts:
            return {"alerts": 0}
        outbox = sinks.outbox().check()
        for event_id, payload in alerts:
            outbox.enqueue(event_id, payload)
        report = outbox.deliver_pending(sinks.sinks(), sinks.retries, sinks.backoff_seconds)
        return {"alerts": len(alerts), "delivered_in_run": len(report.delivered)}

    yield from days.run(one_day, after=deliver)
