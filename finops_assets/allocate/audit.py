"""allocation_audit: the append-only ledger of what each re-allocation of a day moved."""

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

import dagster as dg
import polars as pl
from dagster import AssetExecutionContext

from finops_assets.allocate.versions import allocation_versions
from finops_assets.concurrency import writer_pool
from finops_assets.day_writer import DayEvent, DayWriter
from finops_assets.domain.audit import AllocationRecord, LedgerEntry, ledger_entry
from finops_assets.domain.fx_policy import at_recorded_rates
from finops_assets.domain.money import quantize_half_up
from finops_assets.domain.reference import minor_units_table
from finops_assets.metadata import markdown_table
from finops_assets.partitions import SINGLE_RUN, daily_partitions
from finops_assets.resources.lake import LakeResource
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake

KEY = "allocation_audit"
_SOURCE_COLUMNS = ["x_base_currency", "x_billed_cost_base", "x_effective_cost_base"]
# what re-converting the source at the rates a month-locked allocation recorded needs
_BILLED_COLUMNS = ["x_charge_date", "x_source_row_key", "BillingCurrency", "BilledCost"]
_BILLED_COLUMNS += ["EffectiveCost"]


@dataclass
class AuditedDay:
    """One day's outcome: the entry appended (or None: nothing changed), check failures."""

    day: dt.date
    entry: LedgerEntry | None = None
    failures: list[dict] = field(default_factory=list)
    allocated: bool = True


def allocation_record(delta: DeltaLake, day: dt.date) -> AllocationRecord | None:
    """The day's latest allocation as allocated_costs recorded it; None when never allocated."""
    frame = allocation_versions(delta, day)
    if frame.is_empty():
        return None
    row = frame.row(0, named=True)
    return AllocationRecord(
        day=day,
        run_id=row["x_run_id"],
        rule_version=row["x_rule_version"],
        delta_version_after=row["x_delta_version_after"],
        input_version=row["x_input_version"],
        normalized_version=row["x_normalized_version"],
    )


class RecordedVersionError(RuntimeError):
    """A table version an allocation recorded can no longer be read (e.g. vacuumed)."""


def _recorded(read: Callable[[], pl.DataFrame], record: AllocationRecord, what: str):
    """`read()`, or a clear error naming the day, the version and the run that recorded it."""
    try:
        return read()
    except Exception as error:  # deltalake/polars raise several types; re-raised with context
        raise RecordedVersionError(
            f"allocation_audit {record.day}: cannot read {what}, recorded by allocation run "
            f"{record.run_id} ({str(error).splitlines()[0]}); re-run allocated_costs for "
            "this day, then allocation_audit"
        ) from error


def audit_day(delta: DeltaLake, day: dt.date) -> AuditedDay:
    """Compare the day's latest allocation with its latest ledger entry; append what changed.

    The allocation is read at the allocated_costs version it wrote and checked against the
    normalized_costs version it read (its own input); the earlier side against the source
    totals its own entry recorded. A day that fails appends nothing.
    """
    record = allocation_record(delta, day)
    if record is None:
        return AuditedDay(day, allocated=False)
    after = _recorded(
        lambda: delta.read_day(tables.ALLOCATED_COSTS, day, version=record.delta_version_after),
        record,
        f"allocated_costs version {record.delta_version_after}",
    )
    source = _recorded(
        lambda: delta.read_day_columns(
            tables.NORMALIZED_COSTS,
            day,
            _SOURCE_COLUMNS + _BILLED_COLUMNS,
            version=record.normalized_version,
        ),
        record,
        f"normalized_costs version {record.normalized_version}",
    )
    source = at_recorded_rates(source, after)  # base totals under the allocation's FX policy
    entry = ledger_entry(delta.read_day(tables.ALLOCATION_AUDIT, day), after, source, record)
    if entry is None or entry.failures:
        return AuditedDay(day, entry, entry.failures if entry else [])
    delta.append_day(tables.ALLOCATION_AUDIT, entry.rows, day)
    return AuditedDay(day, entry)


def _minor(amount: Decimal, currency: str) -> str:
    """An amount in its currency's minor units with thousands separators (e.g. -1,234.50)."""
    return f"{quantize_half_up(Decimal(amount), minor_units_table().get(currency, 2)):,}"


def moved_rows(days: list[AuditedDay]) -> list[dict]:
    """Per appended entry and business unit that moved: before, after and delta, for the UI."""
    rows = []
    for audited in days:
        if audited.entry is None or audited.failures:
            continue
        moved = audited.entry.rows.filter(
            (pl.col("billed_cost_delta") != 0) | (pl.col("effective_cost_delta") != 0)
        )
        for r in moved.iter_rows(named=True):
            currency = r["x_base_currency"]
            rows.append(
                {
                    "day": audited.day.isoformat(),
                    "cause": r["cause"],
                    "business unit": r["x_business_unit"],
                    "currency": currency,
                    "effective before": _minor(r["effective_cost_before"], currency),
                    "effective after": _minor(r["effective_cost_after"], currency),
                    "effective moved": _minor(r["effective_cost_delta"], currency),
                    "billed moved": _minor(r["billed_cost_delta"], currency),
                }
            )
    return rows


def entry_summary(audited: AuditedDay) -> dict:
    """One line per day for the UI: what was appended (or why nothing was)."""
    entry = audited.entry
    if not audited.allocated:
        status = "never allocated"
    elif audited.failures:
        status = "FAILED: not appended"
    elif entry is None:
        status = "unchanged: nothing appended"
    else:
        status = f"entry {entry.rows['x_sequence'][0]} appended"
    rows = entry.rows if entry is not None else None
    return {
        "day": audited.day.isoformat(),
        "ledger": status,
        "cause": entry.cause if entry is not None else "",
        "units": rows.height if rows is not None else 0,
        "units moved": rows.filter(pl.col("effective_cost_delta") != 0).height
        if rows is not None
        else 0,
        "rule version": rows["rule_version_after"][0] if rows is not None else "",
        "effective moved to units": _moved_total(rows) if rows is not None else "",
    }


def _moved_total(rows: pl.DataFrame) -> str:
    """Per currency, the effective cost that units gained (= what others lost, for a rule change)."""
    gained = rows.group_by("x_base_currency").agg(
        pl.col("effective_cost_delta").filter(pl.col("effective_cost_delta") > 0).sum()
    )
    return ", ".join(
        f"{currency} {_minor(amount, currency)}"
        for currency, amount in gained.sort("x_base_currency").iter_rows()
    )


@dg.asset(
    group_name="allocate",
    pool=writer_pool("allocation_audit"),
    partitions_def=daily_partitions,
    backfill_policy=SINGLE_RUN,
    kinds={"delta", "polars"},
    deps=["allocated_costs", "normalized_costs"],  # the source rows at the allocation's version
    check_specs=[
        dg.AssetCheckSpec(
            "check_audit_versions_conserved",
            asset=KEY,
            blocking=True,
            partitions_def=daily_partitions,
            description=(
                "Both sides of a new ledger entry add up to their own inputs: the allocation "
                "to the normalized_costs version it read, the earlier side to the source "
                "totals its entry recorded (a restated day passes; money made or lost fails)."
            ),
        )
    ],
)
def allocation_audit(context: AssetExecutionContext, lake: LakeResource) -> Iterator[DayEvent]:
    """Append-only ledger: per re-allocated day and business unit, before, after, delta, cause.

    One entry per real change of a day (first allocation, rule change, restatement, FX change);
    an identical re-run appends nothing and earlier entries are never rewritten.
    """
    delta = lake.delta()
    # a day compares that day's allocation with that day's ledger: memoized (day_memo.py);
    # an allocated day recorded again unchanged has no new allocation, so nothing to append
    writer = DayWriter(
        context,
        memo=True,
        memo_stored=lambda day: delta.day_files([tables.ALLOCATED_COSTS], day),
        memo_output=lambda day: delta.day_files([tables.ALLOCATION_AUDIT], day),
        memo_metadata={"entries_appended": 0},
    )

    def one_day(day: dt.date) -> None:
        audited = audit_day(delta, day)  # appends the day's entry only when its check passes
        failures = audited.failures
        if not audited.allocated:
            failures = [{"day": day.isoformat(), "reason": "no allocation of this day recorded"}]
        writer.commit(
            day,
            {"check_audit_versions_conserved": failures},
            lambda: None,
            content=[delta.read_day(tables.ALLOCATION_AUDIT, day)],  # the day's whole ledger
            metadata={
                "entries_appended": int(audited.entry is not None and not audited.failures),
                "per_day": markdown_table([entry_summary(audited)]),  # this day's line
                "moved": markdown_table(moved_rows([audited])),
            },
        )

    yield from writer.run(one_day)
