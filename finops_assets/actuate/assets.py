"""Actuate-stage assets: budget_status and budget_events."""

import datetime as dt
from collections.abc import Iterator

import dagster as dg
import polars as pl
from dagster import AssetExecutionContext

from finops_assets.actuate.checks import BUDGET_EVENTS_SCHEMA, BUDGET_STATUS_SCHEMA
from finops_assets.concurrency import writer_pool
from finops_assets.day_writer import DayEvent, DayWriter
from finops_assets.domain import budgets as budgets_domain
from finops_assets.domain import cost_forecast as forecast_comparison
from finops_assets.domain import events as events_domain
from finops_assets.domain.reference import minor_units_table
from finops_assets.metadata import markdown_table, money_rows
from finops_assets.partitions import SINGLE_RUN, daily_partitions
from finops_assets.resources.budgets import BudgetsResource
from finops_assets.resources.cost_forecast import CostForecastResource
from finops_assets.resources.events import EventSinksResource
from finops_assets.resources.lake import LakeResource
from finops_assets.storage import tables
from finops_assets.storage.validation import validate_frame


def _history_days(day: dt.date) -> list[dt.date]:
    """The earlier of the month start and 27 days back, up to `day`: what a day reads."""
    start = min(day.replace(day=1), day - dt.timedelta(days=budgets_domain.HISTORY_DAYS - 1))
    return [start + dt.timedelta(days=n) for n in range((day - start).days + 1)]


def _history(delta, day: dt.date) -> pl.DataFrame:
    """Allocated cost of `_history_days(day)`."""
    return delta.read_days(tables.ALLOCATED_COSTS, _history_days(day))


@dg.asset(
    pool=writer_pool("budget_status"),
    group_name="actuate",
    partitions_def=daily_partitions,
    backfill_policy=SINGLE_RUN,
    kinds={"delta", "polars"},
    deps=["allocated_costs"],
    check_specs=[
        dg.AssetCheckSpec(
            "check_budget_status_contract",
            asset="budget_status",
            blocking=True,
            partitions_def=daily_partitions,
            description="One row per configured budget with typed amounts, a known state and a "
            "positive budget; a day that fails is not written and its partition fails.",
        )
    ],
)
def budget_status(
    context: AssetExecutionContext,
    lake: LakeResource,
    budgets: BudgetsResource,
    cost_forecast: CostForecastResource,
) -> Iterator[DayEvent]:
    """Per budget and day: month-to-date actual, forecast to month end, thresholds crossed.

    Where Cost Explorer is configured, the metadata also shows AWS's GetCostForecast month end
    next to ours for the AWS provider (the live day only: AWS forecasts from today on).
    """
    delta, configured, base = lake.delta(), budgets.load(lake.currency()), lake.currency()
    # memoized over the allocated days it reads (day_memo.py), except a day Cost Explorer may
    # still be asked about (a live call); the budgets and the forecast's source are inputs
    writer = DayWriter(
        context,
        memo=True,
        memo_extra=repr((configured, base, cost_forecast.configured())),
        memo_when=lambda day: forecast_comparison.forecast_period(day, today()) is None,
        memo_days=_history_days,
    )

    def one_day(day: dt.date) -> None:
        history = _history(delta, day)
        status = budgets_domain.budget_status(history, configured, day)
        failures = validate_frame(BUDGET_STATUS_SCHEMA, status).failures
        if status.height != len(configured):
            failures = [
                *failures,
                {"day": str(day), "rows": status.height, "budgets": len(configured)},
            ]
        writer.commit(
            day,
            {"check_budget_status_contract": failures},
            lambda: delta.write_day(tables.BUDGET_STATUS, status, day),
            content=[status],
            metadata={
                **_status_metadata(status, base),
                "forecast_vs_cost_explorer": markdown_table(
                    [_forecast_comparison(context, cost_forecast, history, day, base)]
                ),
            },
        )

    yield from writer.run(one_day)


def today() -> dt.date:
    """Today in UTC: Cost Explorer forecasts from this day on."""
    return dt.datetime.now(dt.UTC).date()


def _forecast_comparison(
    context: AssetExecutionContext,
    cost_forecast: CostForecastResource,
    history: pl.DataFrame,
    day: dt.date,
    base: str,
) -> dict[str, str]:
    """Our AWS month-end forecast next to Cost Explorer's; a failed call is named, not fatal.

    The comparison informs; the budget states come from our forecast alone, so a Cost Explorer
    outage shows in the metadata and the log instead of failing the day.
    """
    period = forecast_comparison.forecast_period(day, today())
    note, provider = cost_forecast.configured(), None
    if period is None:
        note = "not asked: Cost Explorer forecasts from today on, no later day of this month"
    else:
        try:
            provider = cost_forecast.rest_of_month(*period)
        except Exception as error:  # shown and logged; the day's states stand on our forecast
            note = f"Cost Explorer forecast failed: {type(error).__name__}: {error}"
            context.log.warning(f"budget_status {day}: {note}")
    minor_units = minor_units_table().get(base, 2)
    return forecast_comparison.compare_forecasts(history, day, base, minor_units, provider, note)


def _status_metadata(status: pl.DataFrame, base: str) -> dict[str, object]:
    """A day of budget_status for the UI: budgets, how many are not ok, amounts per budget."""
    shown = money_rows(
        status,
        ["budget_id", "state", "percent_of_budget_actual", "percent_of_budget_forecast"],
        ["budget_amount", "actual_mtd", "forecast_month_end"],
        base,
    )
    return {
        "rows": status.height,
        "budgets_not_ok": status.filter(pl.col("state") != "ok").height,
        "budgets": shown,
    }


def _month_before(day: dt.date) -> list[dt.date]:
    """The days of `day`'s month before it: the budget events a day reads (fired already)."""
    return [day.replace(day=n) for n in range(1, day.day)]


@dg.asset(
    group_name="actuate",
    partitions_def=daily_partitions,
    pool=writer_pool("budget_events"),
    backfill_policy=SINGLE_RUN,
    kinds={"delta", "cloudevents"},
    deps=[budget_status],
    check_specs=[
        dg.AssetCheckSpec(
            "check_budget_events_contract",
            asset="budget_events",
            blocking=True,
            partitions_def=daily_partitions,
            description="Every budget event is a well-formed CloudEvent of a known type; a day "
            "that fails is neither written nor enqueued for delivery.",
        )
    ],
)
def budget_events(
    context: AssetExecutionContext,
    lake: LakeResource,
    budgets: BudgetsResource,
    sinks: EventSinksResource,
) -> Iterator[DayEvent]:
    """CloudEvents for budget thresholds crossed (or resolved), delivered through the outbox."""
    delta, configured = lake.delta(), budgets.load(lake.currency())
    outbox = sinks.outbox().check()  # unreachable: before any day
    # memoized (day_memo.py) over budget_status of the day and its own earlier days of the
    # month (what was fired already); a reused day's events were enqueued in this outbox when
    # the day was computed (the outbox's place is an input), so it enqueues nothing again
    writer = DayWriter(
        context,
        memo=True,
        memo_extra=repr((configured, str(sinks.folder()), repr(sinks.outbox_store))),
        memo_own_days=_month_before,
    )

    def one_day(day: dt.date) -> None:
        earlier = _month_before(day)
        state = events_domain.fired_state(delta.read_days(tables.BUDGET_EVENTS, earlier))
        status = delta.read_day(tables.BUDGET_STATUS, day)
        events = events_domain.budget_threshold_events(status, configured, state)
        frame = events_domain.events_frame(events)
        checks = {"check_budget_events_contract": validate_frame(BUDGET_EVENTS_SCHEMA, frame)}
        write = lambda: delta.write_day(tables.BUDGET_EVENTS, frame, day)  # noqa: E731
        if writer.commit(day, checks, write, content=[frame], metadata={"events": len(events)}):
            for event in events:
                outbox.enqueue(event.get_id(), events_domain.event_to_json(event))

    def deliver() -> dict[str, object]:
        # Events are enqueued before the sinks are built: a bad sink URL fails the run, loses
        # nothing (the days stay written and recorded; delivery is retried by the next run).
        targets = sinks.sinks()
        report = outbox.deliver_pending(targets, sinks.retries, sinks.backoff_seconds)
        return {
            "sinks": ", ".join(sink.name for sink in targets),
            "delivered_in_run": len(report.delivered),
            "pending_after_delivery": len(outbox.pending([sink.name for sink in targets])),
            "delivery_failures": dg.MetadataValue.json([list(f) for f in report.failed][:20]),
            "torn_ledger_lines": dg.MetadataValue.json(report.torn[:20]),
        }

    yield from writer.run(one_day, after=deliver)
