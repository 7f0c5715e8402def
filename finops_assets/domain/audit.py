"""What moved when a day was re-allocated: per business unit, totals before and after.

`allocated_costs` records, per charge day, the Delta version of its table before and after it
replaced that day (ALLOCATION_VERSIONS_COLUMNS). The audit reads the day at both versions (Delta
time travel) and compares them per business unit and base currency, with the rule versions read
from the rows themselves, so finance can explain every change. Both versions must sum to the
same source total (the normalized cost of the day): a re-allocation moves money, never makes it.
"""

import polars as pl

from finops_assets.domain.money import MONEY

# One row per charge day: the latest allocation of that day and the table versions around it.
ALLOCATION_VERSIONS_COLUMNS: dict[str, pl.DataType] = {
    "x_charge_date": pl.Date(),
    "x_run_id": pl.Utf8(),
    "x_rule_version": pl.Utf8(),  # AllocationRules.data_version used by that run
    "x_delta_version_before": pl.Int64(),  # null when the table did not exist yet
    "x_delta_version_after": pl.Int64(),
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
    "rule_version_before": pl.Utf8(),  # null when the day had no earlier allocation
    "rule_version_after": pl.Utf8(),
    "x_run_id": pl.Utf8(),
    "delta_version_before": pl.Int64(),
    "delta_version_after": pl.Int64(),
}
_KEYS = ("x_charge_date", "x_business_unit", "x_base_currency")
_MONEY = {"billed_cost": "x_billed_cost_base", "effective_cost": "x_effective_cost_base"}


def _versions_expr() -> pl.Expr:
    """The distinct rule versions of a group, sorted and comma-joined (one in practice)."""
    return pl.col("x_allocation_rule_version").drop_nulls().unique().sort().str.join(",")


def unit_totals(allocated: pl.DataFrame, suffix: str) -> pl.DataFrame:
    """Per day, business unit and base currency: base-currency totals and the rule version."""
    return allocated.group_by(_KEYS).agg(
        *[pl.col(src).sum().cast(MONEY).alias(f"{name}_{suffix}") for name, src in _MONEY.items()],
        _versions_expr().alias(f"rule_version_{suffix}"),
    )


def compare_allocations(
    before: pl.DataFrame,
    after: pl.DataFrame,
    run_id: str,
    version_before: int | None,
    version_after: int,
) -> pl.DataFrame:
    """AUDIT_COLUMNS: one row per unit present in either version, sorted, with the deltas.

    A unit that disappears shows its old total and an after of 0 (and the reverse), so the
    deltas of a day always add up to the change of the day's total (zero for a rule change).
    """
    joined = unit_totals(before, "before").join(
        unit_totals(after, "after"), on=_KEYS, how="full", coalesce=True, nulls_equal=True
    )
    zero = pl.lit(0).cast(MONEY)
    money = []
    for name in _MONEY:
        old = pl.col(f"{name}_before").fill_null(zero)
        new = pl.col(f"{name}_after").fill_null(zero)
        money += [old.alias(f"{name}_before"), new.alias(f"{name}_after")]
        money.append((new - old).cast(MONEY).alias(f"{name}_delta"))
    after_version = after["x_allocation_rule_version"].drop_nulls().unique().sort().to_list()
    return (
        joined.with_columns(
            *money,
            pl.lit(",".join(after_version) or None, pl.Utf8).alias("rule_version_after"),
            pl.lit(run_id).alias("x_run_id"),
            pl.lit(version_before, pl.Int64).alias("delta_version_before"),
            pl.lit(version_after, pl.Int64).alias("delta_version_after"),
        )
        .select([pl.col(c).cast(t) for c, t in AUDIT_COLUMNS.items()])
        .sort(_KEYS)
    )


def _totals_by_currency(frame: pl.DataFrame) -> dict[str, dict]:
    sums = frame.group_by("x_base_currency").agg(
        [pl.col(src).sum().cast(MONEY) for src in _MONEY.values()]
    )
    return {row.pop("x_base_currency"): row for row in sums.to_dicts()}


def audit_conservation_failures(
    source: pl.DataFrame, before: pl.DataFrame, after: pl.DataFrame
) -> list[dict]:
    """Where a version's base-currency totals differ from the source's; empty when exact.

    `before` is skipped when empty (the day's first allocation has nothing to compare).
    """
    expected = _totals_by_currency(source)
    failures: list[dict] = []
    for label, frame in (("before", before), ("after", after)):
        if label == "before" and frame.is_empty():
            continue
        got = _totals_by_currency(frame)
        for currency in sorted(set(expected) | set(got), key=str):
            for column in _MONEY.values():
                want = expected.get(currency, {}).get(column)
                have = got.get(currency, {}).get(column)
                if want != have:
                    failures.append(
                        {
                            "version": label,
                            "x_base_currency": currency,
                            "column": column,
                            "source": str(want),
                            "allocated": str(have),
                        }
                    )
    return failures
