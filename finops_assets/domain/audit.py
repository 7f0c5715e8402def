"""The allocation ledger: what each re-allocation of a day moved, per business unit, appended.

`allocated_costs` records, per charge day, its latest allocation (ALLOCATION_VERSIONS_COLUMNS):
the run, the rule version, the Delta versions of its table around the write, and what it read
(the normalized_costs version and the inputs' fingerprint, see audit_inputs). The ledger
(`allocation_audit`) compares that allocation with the day's latest ledger entry and, when
something really changed, appends one entry: a row per business unit and base currency with
the totals before and after, the delta, the rule and input versions on both sides, the cause
(initial, rule_change, restatement, fx_change, reallocation) and the day's source totals the
two sides must each add up to. An identical re-run (same inputs, same rules, same result)
appends nothing; earlier entries are never rewritten.
"""

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from finops_assets.domain.audit_inputs import (
    FX_CHANGE,
    INITIAL,
    REALLOCATION,
    RESTATEMENT,
    change_causes,
)
from finops_assets.domain.money import MONEY

# One row per charge day: the latest allocation of that day, what it read, and the versions.
ALLOCATION_VERSIONS_COLUMNS: dict[str, pl.DataType] = {
    "x_charge_date": pl.Date(),
    "x_run_id": pl.Utf8(),
    "x_rule_version": pl.Utf8(),  # AllocationRules.data_version used by that run
    "x_delta_version_before": pl.Int64(),  # null when the table did not exist yet
    "x_delta_version_after": pl.Int64(),
    "x_input_version": pl.Utf8(),  # audit_inputs.InputVersion text of what was allocated
    "x_normalized_version": pl.Int64(),  # the normalized_costs version that was read
}

AUDIT_COLUMNS: dict[str, pl.DataType] = {
    "x_charge_date": pl.Date(),
    "x_business_unit": pl.Utf8(),
    "x_base_currency": pl.Utf8(),
    "billed_cost_before": MONEY,
    "billed_cost_after": MONEY,
    "billed_cost_delta": MONEY,
    "effective_cost_before": MONEY,
    "effective_cost_after": MONEY,
    "effective_cost_delta": MONEY,
    "rule_version_before": pl.Utf8(),  # null when the day had no earlier entry
    "rule_version_after": pl.Utf8(),
    "x_run_id": pl.Utf8(),  # the allocation run that produced the after side
    "delta_version_before": pl.Int64(),  # allocated_costs version of the before side
    "delta_version_after": pl.Int64(),
    # The ledger's own columns (older tables gain them as nulls on their earlier rows).
    "x_sequence": pl.Int64(),  # the entry's number for its day: 1, 2, ...
    "x_entry_key": pl.Utf8(),  # day, rule version, inputs and result: equal = identical re-run
    "cause": pl.Utf8(),  # audit_inputs.CAUSES joined with "+"
    "input_version_before": pl.Utf8(),
    "input_version_after": pl.Utf8(),
    "normalized_version_before": pl.Int64(),
    "normalized_version_after": pl.Int64(),
    "source_billed_cost_before": MONEY,  # the day's normalized total in this base currency
    "source_billed_cost_after": MONEY,
    "source_effective_cost_before": MONEY,
    "source_effective_cost_after": MONEY,
}
_KEYS = ("x_charge_date", "x_business_unit", "x_base_currency")
_MONEY = {"billed_cost": "x_billed_cost_base", "effective_cost": "x_effective_cost_base"}
_ZERO = pl.lit(0).cast(MONEY)


@dataclass(frozen=True)
class AllocationRecord:
    """One row of allocation_versions: the allocation the ledger compares with its last entry."""

    day: dt.date
    run_id: str
    rule_version: str | None
    delta_version_after: int
    input_version: str | None = None
    normalized_version: int | None = None


@dataclass(frozen=True)
class LedgerEntry:
    """The rows of one new entry, and where a side does not add up to its own source total."""

    rows: pl.DataFrame
    failures: list[dict] = field(default_factory=list)

    @property
    def cause(self) -> str:
        return str(self.rows["cause"][0])


def unit_totals(allocated: pl.DataFrame, suffix: str) -> pl.DataFrame:
    """Per day, business unit and base currency: base-currency totals and the rule version."""
    return allocated.group_by(_KEYS).agg(
        *[pl.col(src).sum().cast(MONEY).alias(f"{name}_{suffix}") for name, src in _MONEY.items()],
        pl.col("x_allocation_rule_version")
        .drop_nulls()
        .unique()
        .sort()
        .str.join(",")
        .alias(f"rule_version_{suffix}"),
    )


def source_totals(normalized: pl.DataFrame) -> pl.DataFrame:
    """Per base currency: the day's normalized base-currency totals (what allocation conserves)."""
    return normalized.group_by("x_base_currency").agg(
        pl.col(src).sum().cast(MONEY).alias(f"source_{name}") for name, src in _MONEY.items()
    )


def latest_entry(ledger: pl.DataFrame) -> pl.DataFrame:
    """The rows of a day's latest ledger entry (rows written before the ledger: the latest run).

    Should two runs ever have appended the same entry (or two entries under one number), the
    one with the latest allocation counts once: a duplicate never doubles the next before side.
    """
    if ledger.is_empty():
        return ledger
    sequence = ledger["x_sequence"].max()
    if sequence is not None:
        ledger = ledger.filter(pl.col("x_sequence") == sequence)
    latest = ledger.filter(pl.col("delta_version_after") == ledger["delta_version_after"].max())
    return latest.unique(subset=["x_business_unit", "x_base_currency"], keep="first").sort(_KEYS)


def _first(frame: pl.DataFrame, column: str) -> Any:
    values = frame[column].drop_nulls() if column in frame.columns else pl.Series([])
    return values[0] if values.len() else None


def _sides(previous: pl.DataFrame, after: pl.DataFrame) -> pl.DataFrame:
    """Per unit and currency: the previous entry's after (as before) and the new totals."""
    before = previous.select(
        *_KEYS,
        *[pl.col(f"{name}_after").alias(f"{name}_before") for name in _MONEY],
        pl.col("rule_version_after").alias("rule_version_before"),
    )
    new = unit_totals(after, "after").with_columns(pl.lit(True).alias("_present"))
    joined = before.join(new, on=_KEYS, how="full", coalesce=True, nulls_equal=True)
    money = []
    for name in _MONEY:
        old = pl.col(f"{name}_before").fill_null(_ZERO)
        now = pl.col(f"{name}_after").fill_null(_ZERO)
        money += [old.alias(f"{name}_before"), now.alias(f"{name}_after")]
        money.append((now - old).cast(MONEY).alias(f"{name}_delta"))
    sides = joined.with_columns(*money)
    # A unit gone in an earlier entry (0 before) and absent now is not carried on forever.
    gone = pl.col("_present").is_null() & pl.all_horizontal(
        pl.col(f"{name}_before") == 0 for name in _MONEY
    )
    return sides.filter(~gone).drop("_present").sort(_KEYS)


def _entry_key(day: dt.date, rules: str | None, inputs: str | None, sides: pl.DataFrame) -> str:
    units = sides.select(
        "x_business_unit", "x_base_currency", *[f"{name}_after" for name in _MONEY]
    ).rows()
    text = f"{day}|{rules}|{inputs}|{sorted(units, key=str)}"
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _causes(previous: pl.DataFrame, rules: str | None, inputs: str | None, sides: pl.DataFrame):
    """Why the day changed; empty when the new allocation is the previous entry's state."""
    rules_before = _first(previous, "rule_version_after")
    inputs_before = _first(previous, "input_version_after")
    causes = change_causes(rules_before, inputs_before, rules, inputs)
    moved = sides.filter(pl.any_horizontal(pl.col(f"{name}_delta") != 0 for name in _MONEY)).height
    totals_moved = any(sides[f"{name}_delta"].sum() != 0 for name in _MONEY)
    if totals_moved and not set(causes) & {RESTATEMENT, FX_CHANGE, INITIAL}:
        causes.append(RESTATEMENT)  # an older entry without fingerprint: the total tells
    if not causes and moved:
        causes.append(REALLOCATION)
    return causes


def _previous_sources(previous: pl.DataFrame) -> pl.DataFrame:
    """Per base currency: the source totals the previous entry's after side was checked against."""
    columns = [f"source_{name}_after" for name in _MONEY]
    if previous.is_empty() or previous.select(columns).null_count().sum_horizontal().item():
        return pl.DataFrame(schema={"x_base_currency": pl.Utf8, **dict.fromkeys(columns, MONEY)})
    return previous.group_by("x_base_currency").agg(pl.col(c).first() for c in columns)


def ledger_entry(
    previous: pl.DataFrame,
    after: pl.DataFrame,
    normalized: pl.DataFrame,
    record: AllocationRecord,
) -> LedgerEntry | None:
    """The entry to append for `record`'s allocation `after` of a day; None when nothing changed.

    `previous` holds the day's ledger rows (all of them, or its latest entry; empty: none), and
    `normalized` the day's normalized rows as that allocation read them (its own input). Each
    side is checked against its own source total: the after side against `normalized`, the
    before side against the totals its entry recorded; a failure is in LedgerEntry.failures.
    """
    previous = latest_entry(previous) if previous.height else pl.DataFrame(schema=AUDIT_COLUMNS)
    sides = _sides(previous, after)
    if previous.is_empty() and sides.is_empty():
        return None  # an empty day never allocated before: nothing to record
    versions = after["x_allocation_rule_version"].drop_nulls().unique().sort().to_list()
    rules = ",".join(versions) or record.rule_version
    causes = _causes(previous, rules, record.input_version, sides)
    if not causes:
        return None  # an identical re-run
    sources_after = source_totals(normalized)
    sources_before = _previous_sources(previous)
    rows = (
        sides.join(sources_after, on="x_base_currency", how="left")
        .rename({f"source_{name}": f"source_{name}_after" for name in _MONEY})
        .join(
            sources_before.rename({f"source_{n}_after": f"source_{n}_before" for n in _MONEY}),
            on="x_base_currency",
            how="left",
        )
        .with_columns(
            pl.lit(rules, pl.Utf8).alias("rule_version_after"),
            pl.lit(_first(previous, "rule_version_after"), pl.Utf8).alias("rule_version_before"),
            pl.lit(record.run_id).alias("x_run_id"),
            pl.lit(_first(previous, "delta_version_after"), pl.Int64).alias("delta_version_before"),
            pl.lit(record.delta_version_after, pl.Int64).alias("delta_version_after"),
            pl.lit((_first(previous, "x_sequence") or 0) + 1, pl.Int64).alias("x_sequence"),
            pl.lit(_entry_key(record.day, rules, record.input_version, sides)).alias("x_entry_key"),
            pl.lit("+".join(causes)).alias("cause"),
            pl.lit(_first(previous, "input_version_after"), pl.Utf8).alias("input_version_before"),
            pl.lit(record.input_version, pl.Utf8).alias("input_version_after"),
            pl.lit(_first(previous, "normalized_version_after"), pl.Int64).alias(
                "normalized_version_before"
            ),
            pl.lit(record.normalized_version, pl.Int64).alias("normalized_version_after"),
        )
        .select([pl.col(c).cast(t) for c, t in AUDIT_COLUMNS.items()])
        .sort(_KEYS)
    )
    failures = _side_failures("after", rows, sources_after, "after")
    if not sources_before.is_empty():
        before = sources_before.rename({f"source_{n}_after": f"source_{n}" for n in _MONEY})
        failures += _side_failures("before", rows, before, "before")
    return LedgerEntry(rows, [{"day": record.day.isoformat(), **f} for f in failures])


def _side_failures(
    label: str, rows: pl.DataFrame, sources: pl.DataFrame, suffix: str
) -> list[dict]:
    """Per base currency and money column where the units' `suffix` totals miss the source."""
    sums = rows.group_by("x_base_currency").agg(
        pl.col(f"{name}_{suffix}").sum().cast(MONEY).alias(name) for name in _MONEY
    )
    joined = sums.join(sources, on="x_base_currency", how="full", coalesce=True, nulls_equal=True)
    failures = []
    for row in joined.sort("x_base_currency", nulls_last=True).iter_rows(named=True):
        for name, column in _MONEY.items():
            allocated, source = row[name] or 0, row[f"source_{name}"] or 0
            if allocated != source:
                failures.append(
                    {
                        "version": label,
                        "x_base_currency": row["x_base_currency"],
                        "column": column,
                        "source": str(source),
                        "allocated": str(allocated),
                    }
                )
    return failures
