"""Closed periods in the lake and in allocated_costs: the audit table and the booked-day guard.

`finops close` / `finops reopen` append to the `period_audit` Delta table; a period's state
is derived from it (domain/periods.py). allocated_costs asks `BookedDays` per day: a day of a
closed period is not allocated again; its materialization records the data version of its
booked one (so nothing after it turns stale) and the table keeps its bytes. What the rules in
force would change waits in pending_adjustments (allocate/pending.py).
"""

import datetime as dt

import dagster as dg
import polars as pl

from finops_assets.dagster_private import DATA_VERSION_TAG
from finops_assets.day_writer import CheckOutcome, DayWriter
from finops_assets.domain.periods import (
    CLOSE,
    audit_row,
    closed_periods,
    parse_period,
    period_of,
)
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake

ALLOCATED_KEY = dg.AssetKey("allocated_costs")
KEPT_NOTE = (
    "period closed: the booked rows were judged when booked and are kept as they are; "
    "what the inputs and rules of now would move is in pending_adjustments"
)


class ClosedDayNotBookedError(Exception):
    """A day of a closed period was never booked: there is nothing to keep; reopen to book it."""

    def __init__(self, day: dt.date) -> None:
        period = period_of(day)
        super().__init__(
            f"allocated_costs {day}: period {period} is closed and the day has no booked "
            f"allocation to keep; reopen it (finops reopen {period} --reason ...) to book it"
        )
        self.day = day


def read_audit(delta: DeltaLake) -> pl.DataFrame:
    """Every close / reopen recorded, oldest first (empty when none ever was)."""
    return delta.scan(tables.PERIOD_AUDIT).collect().sort("at", maintain_order=True)


def closed_set(delta: DeltaLake) -> set[str]:
    """The periods closed now."""
    return closed_periods(read_audit(delta))


def change_period(
    delta: DeltaLake, period: str, action: str, by: str, reason: str, at: dt.datetime
) -> str:
    """Record `action` on `period` (close or reopen) in the audit; one line saying what happened.

    Closing a closed period records nothing; a bad period, a reopen of an open period or
    without a reason raises PeriodError (domain/periods.py).
    """
    audit = read_audit(delta)
    row = audit_row(audit, period, action, by, reason, at)
    period = parse_period(period)
    if row is None:
        last = audit.filter(pl.col("period") == period).row(-1, named=True)
        return f"{period} is already closed (by {last['by']} at {last['at']:%Y-%m-%d %H:%M} UTC)"
    delta.write_all(tables.PERIOD_AUDIT, pl.concat([audit, row]))
    if action == CLOSE:
        return (
            f"closed {period} (by {by}): its booked allocation stays as it is; "
            "what a rule, restatement or FX change would move waits in pending_adjustments"
        )
    return f"reopened {period} (by {by}, reason: {reason}): the next allocation books it again"


def booked_data_version(instance: dg.DagsterInstance, key: dg.AssetKey, day: str) -> str | None:
    """The data version of the latest materialization of `day` of `key` (None: never)."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[day]), limit=1
    ).records
    materialization = records[0].asset_materialization if records else None
    return (materialization.tags or {}).get(DATA_VERSION_TAG) if materialization else None


class BookedDays:
    """The guard allocated_costs consults: which days are closed, and keeping one as booked."""

    def __init__(self, delta: DeltaLake, instance: dg.DagsterInstance) -> None:
        self._delta, self._instance = delta, instance
        self.closed = closed_set(delta)

    def closed_day(self, day: dt.date) -> bool:
        """Whether `day` belongs to a closed period."""
        return period_of(day) in self.closed

    def keep(self, days: DayWriter, day: dt.date, checks: list[str]) -> None:
        """Commit `day` without writing: the booked rows stay, under their booked data version.

        The checks pass: they judged these very rows when they were booked; their results say
        so, and that today's inputs are not judged (pending_adjustments shows what would move).
        A closed day never booked raises ClosedDayNotBookedError.
        """
        version = booked_data_version(self._instance, ALLOCATED_KEY, day.isoformat())
        if version is None:
            raise ClosedDayNotBookedError(day)
        booked = self._delta.read_day(tables.ALLOCATED_COSTS, day)
        rule_versions = sorted(set(booked["x_allocation_rule_version"].drop_nulls().to_list()))
        days.commit(
            day,
            {name: CheckOutcome([], {"kept_booked": True, "note": KEPT_NOTE}) for name in checks},
            lambda: None,  # nothing is written: the booked rows keep their bytes
            content=version,
            metadata={
                "rows": booked.height,
                "rules_version": ",".join(rule_versions),
                "period_closed": period_of(day),
                "kept_booked": True,
                "note": "period closed: booked figures kept; see pending_adjustments",
            },
        )
