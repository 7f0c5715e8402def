"""Closed billing periods: an append-only audit of close / reopen, and what a closed day owes.

A period is a calendar month ("2026-10"). Its state is the last action the audit holds for
it (none: open). Closing a closed period adds nothing (idempotent); reopening needs a reason
and an open period cannot be reopened. While a period is closed, its booked allocation stays
as it is; `pending_adjustments_day` compares it with the allocation the rules in force would
give (per day, business unit and currency: booked, would-be, delta, and the cause).
"""

import datetime as dt
import re
import uuid

import polars as pl
from cloudevents.core.v1.event import CloudEvent

from finops_assets.domain.audit import unit_totals
from finops_assets.domain.audit_inputs import InputVersion
from finops_assets.domain.events import end_of_day
from finops_assets.domain.money import MONEY

CLOSE, REOPEN = "close", "reopen"
PERIOD_AUDIT_COLUMNS: dict[str, pl.DataType] = {
    "period": pl.Utf8(),
    "action": pl.Utf8(),
    "by": pl.Utf8(),
    "at": pl.Datetime("us", "UTC"),
    "reason": pl.Utf8(),
}
KEYS = ["x_charge_date", "x_business_unit", "x_base_currency"]
AMOUNTS = ("billed_cost", "effective_cost")
PENDING_COLUMNS: dict[str, pl.DataType] = {
    "x_charge_date": pl.Date(),
    "x_business_unit": pl.Utf8(),
    "x_base_currency": pl.Utf8(),
    "period": pl.Utf8(),
    **{f"{a}_{side}": MONEY for a in AMOUNTS for side in ("booked", "would_be", "delta")},
    "rule_version_booked": pl.Utf8(),
    "rule_version_would_be": pl.Utf8(),
    "cause": pl.Utf8(),
}
_PERIOD = re.compile(r"^(\d{4})-(\d{2})$")


class PeriodError(ValueError):
    """A bad period text or a close / reopen that cannot be done; the message says why."""


def parse_period(text: str) -> str:
    """`text` as a period "YYYY-MM" (month 01..12), or PeriodError naming it."""
    found = _PERIOD.match(text.strip())
    if not found or not 1 <= int(found.group(2)) <= 12:
        raise PeriodError(f"bad period {text!r}: expected a month as YYYY-MM, e.g. 2026-10")
    return f"{found.group(1)}-{found.group(2)}"


def period_of(day: dt.date) -> str:
    """The period (month) a charge day belongs to."""
    return f"{day.year:04d}-{day.month:02d}"


def closed_periods(audit: pl.DataFrame) -> set[str]:
    """The periods whose last recorded action is a close (rows in the order they were added)."""
    state: dict[str, str] = {}
    for row in audit.select("period", "action").iter_rows():
        state[row[0]] = row[1]
    return {period for period, action in state.items() if action == CLOSE}


def audit_row(
    audit: pl.DataFrame, period: str, action: str, by: str, reason: str, at: dt.datetime
) -> pl.DataFrame | None:
    """The audit row `action` on `period` adds (None: already in that state, nothing to add).

    Raises PeriodError for an unknown action, a reopen without a reason, a reopen of a period
    that is open, or a missing user name.
    """
    period = parse_period(period)
    closed = period in closed_periods(audit)
    if action not in (CLOSE, REOPEN):
        raise PeriodError(f"unknown action {action!r}: expected {CLOSE!r} or {REOPEN!r}")
    if not by.strip():
        raise PeriodError(f"{action} {period}: who does it is unknown; pass --by NAME")
    if action == REOPEN and not reason.strip():
        raise PeriodError(f"reopen {period}: a reason is required (--reason TEXT)")
    if action == REOPEN and not closed:
        raise PeriodError(f"reopen {period}: the period is not closed, nothing to reopen")
    if action == CLOSE and closed:
        return None
    return pl.DataFrame(
        [{"period": period, "action": action, "by": by, "at": at, "reason": reason}],
        schema=PERIOD_AUDIT_COLUMNS,
    )


def pending_adjustments_day(
    day: dt.date, booked: pl.DataFrame, would_be: pl.DataFrame, cause: str
) -> pl.DataFrame:
    """Per business unit and currency of a closed `day`: booked, would-be and delta (PENDING_COLUMNS).

    Only units whose amounts would move are kept; an unchanged day gives no rows. Both sides
    conserve the day's money, so when the day's total does not change the deltas add up to 0.
    """
    both = unit_totals(booked, "booked").join(
        unit_totals(would_be, "would_be"), on=KEYS, how="full", coalesce=True
    )
    zero = pl.lit(0).cast(MONEY)
    both = (
        both.with_columns(
            *[pl.col(f"{a}_{s}").fill_null(zero) for a in AMOUNTS for s in ("booked", "would_be")],
            pl.col("rule_version_booked").fill_null(""),
            pl.col("rule_version_would_be").fill_null(""),
        )
        .with_columns(
            *[
                (pl.col(f"{a}_would_be") - pl.col(f"{a}_booked")).alias(f"{a}_delta")
                for a in AMOUNTS
            ],
            pl.lit(period_of(day)).alias("period"),
            pl.lit(cause).alias("cause"),
        )
        .filter((pl.col("billed_cost_delta") != 0) | (pl.col("effective_cost_delta") != 0))
    )
    return both.select(list(PENDING_COLUMNS)).cast(dict(PENDING_COLUMNS)).sort(KEYS)  # type: ignore[arg-type]


def adjustment_cause(
    booked_rules: str,
    would_be_rules: str,
    booked_inputs: InputVersion | None,
    now_inputs: InputVersion,
) -> str:
    """Why a closed day would move: its rule version, and which inputs changed since booking.

    The inputs are compared as allocation_audit does (their fingerprints): the day's
    normalized rows (a restatement), their FX columns (an FX change), its Kubernetes usage.
    """
    causes = []
    if booked_rules != would_be_rules:
        causes.append(f"rule version {booked_rules or '-'} -> {would_be_rules or '-'}")
    if booked_inputs is None:
        causes.append("inputs at booking not recorded")
    else:
        if booked_inputs.normalized != now_inputs.normalized:
            causes.append("restatement (normalized costs changed)")
        if booked_inputs.fx != now_inputs.fx:
            causes.append("fx_change (exchange rates changed)")
        if booked_inputs.usage != now_inputs.usage:
            causes.append("usage changed (k8s_usage_raw)")
    return "; ".join(causes) or f"reallocation (same rules {would_be_rules} and inputs)"


PENDING_EVENT = "com.finops.allocation.adjustment.pending"
PENDING_SOURCE = "/finops_assets/closed_periods"
_EVENT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://finops-assets/pending-adjustments")


def pending_event(day: dt.date, pending: pl.DataFrame, content: str) -> CloudEvent:
    """The alert for a closed day with pending adjustments (CloudEvents 1.0).

    Its id hashes the day and `content` (the pending rows' fingerprint): the same pending
    figures alert once, however often the day is re-materialized; new figures alert again.
    """
    units = [
        {
            "business_unit": row["x_business_unit"],
            "currency": row["x_base_currency"],
            **{f"billed_cost_{s}": str(row[f"billed_cost_{s}"]) for s in ("booked", "would_be")},
            "billed_cost_delta": str(row["billed_cost_delta"]),
        }
        for row in pending.iter_rows(named=True)
    ]
    attributes = {
        "specversion": "1.0",
        "id": str(uuid.uuid5(_EVENT_NAMESPACE, f"{day.isoformat()}|{content}")),
        "type": PENDING_EVENT,
        "source": PENDING_SOURCE,
        "subject": f"period/{period_of(day)}",
        "time": end_of_day(day),
        "datacontenttype": "application/json",
    }
    data = {
        "period": period_of(day),
        "day": day.isoformat(),
        "cause": pending["cause"][0] if pending.height else "",
        "units": units,
    }
    return CloudEvent(attributes, data)
