"""The allocation ledger: one appended entry per real change of a day, nothing for a re-run."""

import datetime as dt
from decimal import Decimal as D

import polars as pl

from finops_assets.domain.audit import (
    AUDIT_COLUMNS,
    AllocationRecord,
    latest_entry,
    ledger_entry,
    unit_totals,
)
from finops_assets.domain.audit_inputs import InputVersion, change_causes, input_version
from finops_assets.domain.money import MONEY
from finops_assets_tests.domain.test_allocate import frame

DAY = dt.date(2026, 10, 1)
EMPTY = pl.DataFrame(schema=AUDIT_COLUMNS)
INPUTS_1 = InputVersion("n1", "f1", "u1").text()


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
        schema_overrides={"x_business_unit": pl.Utf8, "x_allocation_rule_version": pl.Utf8},
    )


def source(billed: str, effective: str) -> pl.DataFrame:
    """The day's normalized rows, reduced to one row with its base-currency totals."""
    return allocation([("-", billed, effective)], "-").drop("x_allocation_rule_version")


OLD = allocation([("a", "10.00", "9.00"), ("a", "5.00", "5.00"), ("b", "5.00", "4.00")], "v1")
NEW = allocation([("a", "12.00", "11.00"), ("c", "8.00", "7.00")], "v2")
SOURCE = source("20.00", "18.00")


def record(run: str, version: int, inputs: str = INPUTS_1, rules: str = "v1") -> AllocationRecord:
    return AllocationRecord(DAY, run, rules, version, inputs, normalized_version=version + 100)


def first_entry() -> pl.DataFrame:
    entry = ledger_entry(EMPTY, OLD, SOURCE, record("run-0", 3))
    assert entry is not None and entry.failures == []
    return entry.rows


def test_unit_totals_per_unit_with_rule_version() -> None:
    totals = unit_totals(OLD, "before").sort("x_business_unit")
    assert totals["billed_cost_before"].to_list() == [D("15.00"), D("5.00")]
    assert totals["rule_version_before"].to_list() == ["v1", "v1"]


def test_first_allocation_is_an_initial_entry_with_nothing_before() -> None:
    rows = first_entry()
    assert list(rows.schema.items()) == list(AUDIT_COLUMNS.items())
    assert rows["cause"].unique().to_list() == ["initial"]
    assert rows["x_sequence"].unique().to_list() == [1]
    assert rows["billed_cost_before"].to_list() == [D(0), D(0)]
    assert rows["billed_cost_delta"].to_list() == rows["billed_cost_after"].to_list()
    assert rows["rule_version_before"].null_count() == rows.height
    assert rows["source_billed_cost_after"].unique().to_list() == [D(20)]
    assert rows["source_billed_cost_before"].null_count() == rows.height
    assert rows["normalized_version_after"].unique().to_list() == [103]


def test_an_identical_rerun_appends_nothing() -> None:
    previous = first_entry()
    # Another run, another Delta version of allocated_costs, the same inputs, rules and result.
    assert ledger_entry(previous, OLD, SOURCE, record("run-1", 9)) is None


def test_a_rule_change_moves_money_between_units_and_keeps_the_total() -> None:
    previous = first_entry()
    entry = ledger_entry(previous, NEW, SOURCE, record("run-1", 7, rules="v2"))
    assert entry is not None and entry.failures == []
    rows = {r["x_business_unit"]: r for r in entry.rows.to_dicts()}
    assert entry.cause == "rule_change"
    assert rows["a"]["billed_cost_delta"] == D(-3)
    assert rows["b"]["billed_cost_after"] == 0 and rows["b"]["billed_cost_delta"] == D(-5)
    assert rows["c"]["billed_cost_before"] == 0 and rows["c"]["effective_cost_delta"] == D(7)
    assert sum(entry.rows["billed_cost_delta"].to_list(), D(0)) == 0
    assert set(entry.rows["rule_version_before"]) == {"v1"}
    assert set(entry.rows["rule_version_after"]) == {"v2"}
    assert set(entry.rows["x_sequence"]) == {2} and set(entry.rows["x_run_id"]) == {"run-1"}
    assert set(entry.rows["delta_version_before"]) == {3}
    assert set(entry.rows["delta_version_after"]) == {7}
    assert set(entry.rows["normalized_version_before"]) == {103}
    # A unit that left is not carried into later entries once its zero is recorded.
    back = ledger_entry(entry.rows, OLD, SOURCE, record("run-2", 8, rules="v1"))
    assert back is not None and back.cause == "rule_change"  # back to v1 is a change too
    assert sorted(back.rows["x_business_unit"]) == ["a", "b", "c"]
    v3 = OLD.with_columns(pl.lit("v3").alias("x_allocation_rule_version"))
    again = ledger_entry(back.rows, v3, SOURCE, record("run-3", 9, rules="v3"))
    assert again is not None and sorted(again.rows["x_business_unit"]) == ["a", "b"]


def test_a_restatement_is_recorded_and_each_side_checked_against_its_own_source() -> None:
    previous = first_entry()
    restated = allocation([("a", "110.00", "109.00"), ("a", "5.00", "5.00"), ("b", "5", "4")], "v1")
    inputs = InputVersion("n2", "f2", "u1").text()
    entry = ledger_entry(previous, restated, source("120.00", "118.00"), record("run-1", 5, inputs))
    assert entry is not None and entry.failures == []
    assert entry.cause == "restatement"
    assert sum(entry.rows["billed_cost_delta"].to_list(), D(0)) == D(100)
    assert set(entry.rows["source_billed_cost_before"]) == {D(20)}
    assert set(entry.rows["source_billed_cost_after"]) == {D(120)}
    assert set(entry.rows["input_version_before"]) == {INPUTS_1}
    assert set(entry.rows["input_version_after"]) == {inputs}


def test_an_fx_change_alone_is_named_so() -> None:
    previous = first_entry()
    moved = allocation([("a", "16.50", "15.40"), ("b", "5.50", "4.40")], "v1")
    inputs = InputVersion("n1", "f2", "u1").text()
    entry = ledger_entry(previous, moved, source("22.00", "19.80"), record("run-1", 5, inputs))
    assert entry is not None and entry.failures == [] and entry.cause == "fx_change"


def test_a_side_that_does_not_add_up_to_its_own_source_fails() -> None:
    drifted = allocation([("a", "12.00", "11.00"), ("c", "8.01", "7.00")], "v2")
    entry = ledger_entry(first_entry(), drifted, SOURCE, record("run-1", 7, rules="v2"))
    assert entry is not None
    assert [(f["version"], f["column"]) for f in entry.failures] == [
        ("after", "x_billed_cost_base")
    ]
    assert entry.failures[0]["allocated"].startswith("20.01")
    assert entry.failures[0]["day"] == DAY.isoformat()
    # The before side: a previous entry whose units do not add up to the source it recorded.
    tampered = first_entry().with_columns(pl.lit(D(21), MONEY).alias("source_billed_cost_after"))
    entry = ledger_entry(tampered, NEW, SOURCE, record("run-1", 7, rules="v2"))
    assert entry is not None
    assert [(f["version"], f["column"]) for f in entry.failures] == [
        ("before", "x_billed_cost_base")
    ]


def test_same_inputs_and_rules_with_another_result_is_a_reallocation() -> None:
    other = allocation([("a", "16.00", "15.00"), ("b", "4.00", "3.00")], "v1")
    entry = ledger_entry(first_entry(), other, SOURCE, record("run-1", 5))
    assert entry is not None and entry.cause == "reallocation" and entry.failures == []


def test_rows_written_before_the_ledger_are_the_previous_state() -> None:
    legacy = first_entry().with_columns(
        pl.lit(None, pl.Int64).alias("x_sequence"),
        *[
            pl.lit(None, AUDIT_COLUMNS[c]).alias(c)
            for c in AUDIT_COLUMNS
            if c.startswith(("source_", "input_version", "normalized_version", "cause"))
        ],
    )
    assert latest_entry(
        pl.concat([legacy, legacy.with_columns(pl.lit(1, pl.Int64).alias("delta_version_after"))])
    ).equals(legacy)
    assert ledger_entry(legacy, OLD, SOURCE, record("run-1", 9)) is None
    entry = ledger_entry(legacy, NEW, SOURCE, record("run-1", 9, rules="v2"))
    assert entry is not None and entry.failures == [] and entry.cause == "rule_change"
    assert set(entry.rows["x_sequence"]) == {1}
    restated = allocation([("a", "30.00", "28.00")], "v1")
    entry = ledger_entry(legacy, restated, source("30.00", "28.00"), record("run-2", 9))
    assert entry is not None and entry.cause == "restatement"


def test_an_empty_day_never_allocated_appends_nothing_and_a_day_emptied_does() -> None:
    assert ledger_entry(EMPTY, OLD.clear(), SOURCE.clear(), record("run-0", 1)) is None
    emptied = ledger_entry(
        first_entry(), OLD.clear(), SOURCE.clear(), record("run-1", 2, "n=0;fx=0;u=u1")
    )
    assert emptied is not None and emptied.failures == [] and emptied.cause == "restatement"
    assert set(emptied.rows["billed_cost_after"]) == {D(0)}


def test_latest_entry_is_the_highest_sequence() -> None:
    first = first_entry()
    second = ledger_entry(first, NEW, SOURCE, record("run-1", 7, rules="v2"))
    assert second is not None
    assert latest_entry(pl.concat([second.rows, first])).equals(second.rows)
    assert latest_entry(EMPTY).is_empty()


def test_an_entry_appended_twice_counts_once() -> None:
    first = first_entry()
    twice = pl.concat([first, first])
    assert latest_entry(twice).equals(first)
    assert ledger_entry(twice, OLD, SOURCE, record("run-1", 9)) is None
    entry = ledger_entry(twice, NEW, SOURCE, record("run-1", 7, rules="v2"))
    assert entry is not None and entry.failures == []
    assert sum(entry.rows["billed_cost_before"].to_list(), D(0)) == D(20)


def test_input_version_ignores_row_order_and_chunks_and_names_what_changed() -> None:
    rows = [{"cost": "1.00", "SubAccountId": "111"}, {"cost": "2.50", "SubAccountId": "998"}]
    normalized = frame([dict(r) for r in rows])
    usage = pl.DataFrame({"namespace": ["a"], "cpu": [1.0]})
    whole = input_version([normalized], usage)
    assert input_version([normalized.reverse()], usage) == whole
    assert input_version([normalized.slice(0, 1), normalized.slice(1)], usage) == whole
    assert InputVersion.parse(whole.text()) == whole and InputVersion.parse(None) is None
    billed = normalized.with_columns(pl.lit("Beta").alias("x_tags"))
    assert input_version([billed], usage).normalized != whole.normalized
    fx = normalized.with_columns(pl.col("x_billed_cost_base") * 2)
    assert (input_version([fx], usage).normalized, input_version([fx], usage).fx) == (
        whole.normalized,
        input_version([fx], usage).fx,
    )
    assert input_version([fx], usage).fx != whole.fx
    assert input_version([normalized], usage.with_columns(cpu=2.0)).usage != whole.usage
    texts = {
        "same": whole.text(),
        "billed": input_version([billed], usage).text(),
        "fx": input_version([fx], usage).text(),
        "usage": input_version([normalized], usage.with_columns(cpu=2.0)).text(),
    }
    assert change_causes("v", texts["same"], "v", texts["same"]) == []
    assert change_causes("v", texts["same"], "v", texts["billed"]) == ["restatement"]
    assert change_causes("v", texts["same"], "v", texts["fx"]) == ["fx_change"]
    assert change_causes("v", texts["same"], "v", texts["usage"]) == ["restatement"]
    assert change_causes("v", texts["same"], "w", texts["billed"]) == [
        "rule_change",
        "restatement",
    ]
    assert change_causes(None, None, "v", texts["same"]) == ["initial"]
