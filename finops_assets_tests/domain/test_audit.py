"""The audit's comparison of two allocations of a day: per unit before, after and delta."""

import datetime as dt
from decimal import Decimal as D

import polars as pl

from finops_assets.domain.audit import (
    AUDIT_COLUMNS,
    audit_conservation_failures,
    compare_allocations,
    unit_totals,
)
from finops_assets.domain.money import MONEY

DAY = dt.date(2026, 10, 1)


def allocation(rows: list[tuple[str, str, str]], version: str) -> pl.DataFrame:
    """(unit, billed base, effective base) rows of one day in USD under a rule version."""
    return pl.DataFrame(
        {
            "x_charge_date": [DAY] * len(rows),
            "x_business_unit": [r[0] for r in rows],
            "x_base_currency": ["USD"] * len(rows),
            "x_billed_cost_base": pl.Series([D(r[1]) for r in rows], dtype=MONEY),
            "x_effective_cost_base": pl.Series([D(r[2]) for r in rows], dtype=MONEY),
            "x_allocation_rule_version": [version] * len(rows),
        },
        schema_overrides={"x_business_unit": pl.Utf8},
    )


OLD = allocation([("a", "10.00", "9.00"), ("a", "5.00", "5.00"), ("b", "5.00", "4.00")], "v1-x")
NEW = allocation([("a", "12.00", "11.00"), ("c", "8.00", "7.00")], "v2-y")


def test_unit_totals_per_unit_with_rule_version() -> None:
    totals = unit_totals(OLD, "before").sort("x_business_unit")
    assert totals["billed_cost_before"].to_list() == [D("15.00"), D("5.00")]
    assert totals["rule_version_before"].to_list() == ["v1-x", "v1-x"]


def test_compare_lists_every_unit_with_deltas_summing_to_zero() -> None:
    audit = compare_allocations(OLD, NEW, "run-1", 3, 7)
    assert list(audit.schema.items()) == list(AUDIT_COLUMNS.items())
    rows = {r["x_business_unit"]: r for r in audit.to_dicts()}
    assert rows["a"]["billed_cost_delta"] == D(-3)
    assert rows["b"]["billed_cost_after"] == 0 and rows["b"]["billed_cost_delta"] == D(-5)
    assert rows["c"]["billed_cost_before"] == 0 and rows["c"]["rule_version_before"] is None
    assert rows["c"]["effective_cost_delta"] == D(7)
    assert sum(audit["billed_cost_delta"].to_list(), D(0)) == 0
    assert set(audit["rule_version_after"]) == {"v2-y"}
    assert set(audit["x_run_id"]) == {"run-1"}
    assert (audit["delta_version_before"].to_list(), audit["delta_version_after"].to_list()) == (
        [3, 3, 3],
        [7, 7, 7],
    )
    assert audit["x_business_unit"].to_list() == ["a", "b", "c"]


def test_first_allocation_has_no_before() -> None:
    audit = compare_allocations(OLD.clear(), NEW, "run-0", None, 0)
    assert audit["delta_version_before"].null_count() == audit.height
    assert audit["billed_cost_delta"].to_list() == audit["billed_cost_after"].to_list()


def test_conservation_both_versions_against_the_source() -> None:
    assert audit_conservation_failures(OLD, OLD, NEW) == []
    assert audit_conservation_failures(NEW, OLD.clear(), NEW) == []
    drifted = allocation([("a", "12.00", "11.00"), ("c", "8.01", "7.00")], "v2-y")
    failures = audit_conservation_failures(OLD, OLD, drifted)
    assert [f["version"] for f in failures] == ["after"]
    assert failures[0]["allocated"].startswith("20.01")
