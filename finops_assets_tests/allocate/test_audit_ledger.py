"""The allocation ledger and degenerate days through real materializations and Delta tables."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from finops_assets.allocate.versions import allocation_commit_metadata, allocation_versions
from finops_assets.demo import materialize_window
from finops_assets.domain.money import MONEY
from finops_assets.sample.generate import day_files
from finops_assets.storage import tables
from finops_assets_tests.allocate.conftest import DAYS, Estate, run_assets
from finops_assets_tests.allocate.rules_change import definitions_with_rules, write_shipped_rules

pytestmark = pytest.mark.slow

AUDITED = ["allocated_costs", "allocation_audit"]
ACTUATED = [*AUDITED, "cost_by_business_unit", "budget_status", "budget_events", "finops_kpis"]
MONEY_COLUMNS = ["BilledCost", "EffectiveCost", "x_billed_cost_base", "x_effective_cost_base"]
HUNDRED = Decimal(100)


@pytest.fixture(scope="module")
def defs(estate: Estate, tmp_path_factory) -> dg.Definitions:
    return definitions_with_rules(write_shipped_rules(tmp_path_factory.mktemp("r") / "rules.yaml"))


def ledger(estate: Estate, day: dt.date) -> pl.DataFrame:
    return estate.lake.read_day(tables.ALLOCATION_AUDIT, day).sort("x_sequence", "x_business_unit")


def checks_passed(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
    return {c.check_name: c.passed for c in result.get_asset_check_evaluations()}


def test_an_identical_rerun_appends_nothing_to_the_ledger(estate, defs):
    day = DAYS[0]
    first = run_assets(defs, estate.instance, AUDITED, [day])
    assert first.success
    kept = ledger(estate, day)
    assert kept.height > 0 and kept["cause"][0] == "initial"
    version = estate.lake.version(tables.ALLOCATION_AUDIT)
    result = run_assets(defs, estate.instance, AUDITED, [day])
    assert result.success and checks_passed(result)["check_audit_versions_conserved"]
    assert estate.lake.version(tables.ALLOCATION_AUDIT) == version  # no commit at all
    assert_frame_equal(ledger(estate, day), kept)
    [audit] = result.asset_materializations_for_node("allocation_audit")
    assert audit.metadata["entries_appended"].value == 0
    # Dagster sees the same ledger: the same data version, so nothing after it turns stale.
    [earlier] = first.asset_materializations_for_node("allocation_audit")
    assert audit.tags and earlier.tags
    assert audit.tags["dagster/data_version"] == earlier.tags["dagster/data_version"]


def _restate(estate: Estate, day: dt.date) -> str:
    """+100 USD on one USD row of the day's normalized_costs (as a restated bill would)."""
    normalized = estate.lake.read_day(tables.NORMALIZED_COSTS, day).sort("x_source_row_key")
    usd = (pl.col("BillingCurrency") == "USD") & (pl.col("x_base_currency") == "USD")
    key = normalized.filter(usd)["x_source_row_key"][0]
    restated = normalized.with_columns(
        pl.when(pl.col("x_source_row_key") == key)
        .then(pl.col(c) + pl.lit(HUNDRED, MONEY))
        .otherwise(pl.col(c))
        .cast(MONEY)
        .alias(c)
        for c in MONEY_COLUMNS
    )
    estate.lake.write_day(tables.NORMALIZED_COSTS, restated, day)
    return key


def test_a_restated_day_is_reallocated_and_recorded_as_a_restatement(estate, defs):
    day = DAYS[1]
    assert run_assets(defs, estate.instance, AUDITED, [day]).success
    earlier = ledger(estate, day)
    source_before = estate.lake.read_day(tables.NORMALIZED_COSTS, day)["x_effective_cost_base"]
    _restate(estate, day)
    result = run_assets(defs, estate.instance, AUDITED, [day])
    assert result.success
    checks = checks_passed(result)
    assert all(checks.values()), checks
    assert {"check_allocation_conserved", "check_audit_versions_conserved"} <= set(checks)
    after = ledger(estate, day)
    # Append-only: the earlier entries are still there, unchanged.
    assert_frame_equal(after.head(earlier.height), earlier)
    entry = after.filter(pl.col("x_sequence") == earlier["x_sequence"].max() + 1)
    assert entry.height == after.height - earlier.height > 0
    assert entry["cause"].unique().to_list() == ["restatement"]
    assert entry["x_run_id"].unique().to_list() == [result.run_id]
    assert sum(entry["effective_cost_delta"].to_list(), Decimal(0)) == HUNDRED
    assert sum(entry["billed_cost_delta"].to_list(), Decimal(0)) == HUNDRED
    assert entry["source_effective_cost_before"].unique().to_list() == [source_before.sum()]
    assert entry["source_effective_cost_after"].unique().to_list() == [source_before.sum() + 100]
    assert sum(entry["effective_cost_after"].to_list(), Decimal(0)) == source_before.sum() + 100
    assert entry["input_version_before"][0] != entry["input_version_after"][0]
    assert entry["rule_version_before"][0] == entry["rule_version_after"][0]
    [audit] = result.asset_materializations_for_node("allocation_audit")
    moved = audit.metadata["moved"].value
    assert "restatement" in moved and "100.00" in moved
    per_day = audit.metadata["per_day"].value
    assert "USD 100.00" in per_day and "restatement" in per_day


def _restate_landing_file(estate: Estate, day: dt.date) -> None:
    """The provider re-delivers the day's FOCUS file with +100 USD on its first row."""
    [path] = day_files(estate.home / "landing", "focus_export", day)
    header, first, *rest = path.read_text(encoding="utf-8").splitlines(keepends=True)
    columns = header.rstrip("\n").split(",")
    fields = first.split(",")
    for column in ("BilledCost", "EffectiveCost"):
        index = columns.index(column)
        fields[index] = str(Decimal(fields[index]) + HUNDRED)
    path.write_text(header + ",".join(fields) + "".join(rest), encoding="utf-8")


def test_a_restated_file_runs_green_through_the_whole_graph_and_is_audited(estate):
    """Issue 14/16: a restated file used to fail every run at check_audit_versions_conserved."""
    day = DAYS[1]
    assert materialize_window(estate.instance, day, day).success
    earlier = ledger(estate, day)
    total = estate.lake.read_day(tables.NORMALIZED_COSTS, day)["x_effective_cost_base"].sum()
    _restate_landing_file(estate, day)
    result = materialize_window(estate.instance, day, day)
    assert result.success
    failed = [c.check_name for c in result.get_asset_check_evaluations() if not c.passed]
    assert failed == []
    normalized = estate.lake.read_day(tables.NORMALIZED_COSTS, day)["x_effective_cost_base"]
    assert normalized.sum() == total + HUNDRED
    entry = ledger(estate, day).slice(earlier.height)
    assert entry["cause"].unique().to_list() == ["restatement"]
    assert sum(entry["effective_cost_delta"].to_list(), Decimal(0)) == HUNDRED
    assert entry["source_effective_cost_after"].unique().to_list() == [total + HUNDRED]
    assert_frame_equal(ledger(estate, day).head(earlier.height), earlier)


def test_an_fx_change_is_recorded_as_such(estate, defs):
    day = DAYS[0]
    assert run_assets(defs, estate.instance, AUDITED, [day]).success
    earlier = ledger(estate, day)
    # A new rate for one non-USD row: its base-currency amounts move, its bill does not.
    normalized = estate.lake.read_day(tables.NORMALIZED_COSTS, day).sort("x_source_row_key")
    key = normalized.filter(pl.col("BillingCurrency") != "USD")["x_source_row_key"][0]
    base = ["x_billed_cost_base", "x_effective_cost_base"]
    moved = normalized.with_columns(
        pl.when(pl.col("x_source_row_key") == key)
        .then(pl.col(c) + pl.lit(Decimal("1.25"), MONEY))
        .otherwise(pl.col(c))
        .cast(MONEY)
        .alias(c)
        for c in base
    )
    estate.lake.write_day(tables.NORMALIZED_COSTS, moved, day)
    try:
        result = run_assets(defs, estate.instance, AUDITED, [day])
        assert result.success and all(checks_passed(result).values())
        entry = ledger(estate, day).slice(earlier.height)
        assert entry["cause"].unique().to_list() == ["fx_change"]
        assert sum(entry["effective_cost_delta"].to_list(), Decimal(0)) == Decimal("1.25")
        assert sum(entry["billed_cost_delta"].to_list(), Decimal(0)) == Decimal("1.25")
    finally:
        estate.lake.write_day(tables.NORMALIZED_COSTS, normalized, day)


def test_an_allocation_that_does_not_add_up_fails_the_audit_and_appends_nothing(estate, defs):
    day = DAYS[0]
    assert run_assets(defs, estate.instance, AUDITED, [day]).success
    kept = ledger(estate, day)
    # Someone rewrites the day's allocation by hand: one cent more on one row.
    allocated = estate.lake.read_day(tables.ALLOCATED_COSTS, day).sort("x_allocation_row_key")
    tampered = allocated.with_columns(
        pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.col("x_effective_cost_base") + pl.lit(Decimal("0.01"), MONEY))
        .otherwise(pl.col("x_effective_cost_base"))
        .cast(MONEY)
        .alias("x_effective_cost_base")
    )
    # ... committing it with the real allocation's record (the record lives in the commit).
    record = allocation_versions(estate.lake, day).row(0, named=True)
    metadata = allocation_commit_metadata(
        day,
        record["x_run_id"],
        record["x_rule_version"],
        record["x_input_version"],
        record["x_normalized_version"],
    )
    estate.lake.write_day(tables.ALLOCATED_COSTS, tampered, day, commit_metadata=metadata)
    result = run_assets(defs, estate.instance, ["allocation_audit"], [day])
    assert not checks_passed(result)["check_audit_versions_conserved"]
    [evaluation] = result.get_asset_check_evaluations()
    failures = evaluation.metadata["failures"].value
    assert failures[0]["version"] == "after" and failures[0]["day"] == day.isoformat()
    assert failures[0]["column"] == "x_effective_cost_base"
    assert_frame_equal(ledger(estate, day), kept)
    # The real allocation restores the day; the ledger then records nothing new.
    assert run_assets(defs, estate.instance, AUDITED, [day]).success
    assert_frame_equal(ledger(estate, day), kept)


DEGENERATE = {
    "zero_total": ["5.00", "-5.00"],
    "all_credits": ["-5.00", "-2.50", "-0.01"],
    "negative_total": ["10.00", "-30.00", "0.03"],
    "one_row": ["0.01"],
    "empty": [],
}
DEGENERATE_START = dt.date(2026, 10, 5)


def _degenerate_days(estate: Estate) -> dict[dt.date, str]:
    """Writes normalized days made of real sample rows with degenerate amounts."""
    usd = (pl.col("BillingCurrency") == "USD") & (pl.col("x_base_currency") == "USD")
    sample = estate.lake.read_day(tables.NORMALIZED_COSTS, DAYS[0]).filter(usd)
    sample = sample.sort("x_source_row_key")
    money = [c for c, t in tables.NORMALIZED_COSTS.columns.items() if t == MONEY and "ost" in c]
    days = {}
    for n, (name, amounts) in enumerate(DEGENERATE.items()):
        day = DEGENERATE_START + dt.timedelta(days=n)
        rows = sample.slice(n * 3, len(amounts)).with_columns(
            pl.lit(day).alias("x_charge_date"),
            *[pl.Series(c, [Decimal(a) for a in amounts], dtype=MONEY) for c in money],
        )
        estate.lake.write_day(tables.NORMALIZED_COSTS, rows, day)
        days[day] = name
    return days


def test_degenerate_days_through_allocation_and_actuation(estate, defs):
    days = _degenerate_days(estate)
    # new days: their rule version is recorded first (applicable_rules), as a landing run does
    result = run_assets(defs, estate.instance, ["applicable_rules", *ACTUATED], sorted(days))
    assert result.success
    assert all(checks_passed(result).values()), checks_passed(result)
    budgets = estate.lake.read_days(tables.BUDGET_STATUS, sorted(days))
    per_day_budgets = budgets.group_by("x_charge_date").len()
    assert per_day_budgets["len"].n_unique() == 1 and per_day_budgets.height == len(days)
    for day, name in days.items():
        normalized = estate.lake.read_day(tables.NORMALIZED_COSTS, day)
        allocated = estate.lake.read_day(tables.ALLOCATED_COSTS, day)
        for column in MONEY_COLUMNS:
            assert allocated[column].sum() == normalized[column].sum(), (name, column)
        entries = ledger(estate, day)
        if name == "empty":
            assert allocated.is_empty() and entries.is_empty()
            continue
        assert entries["cause"].unique().to_list() == ["initial"], name
        total = normalized["x_effective_cost_base"].sum()
        assert sum(entries["effective_cost_after"].to_list(), Decimal(0)) == total, name
    kpis = estate.lake.read_days(tables.FINOPS_KPIS, sorted(days))
    zero_day = next(d for d, n in days.items() if n == "zero_total")
    assert kpis.filter(pl.col("x_charge_date") == zero_day)["share"].null_count() > 0


@pytest.mark.parametrize("name", ["zero_total", "empty"])
def test_a_degenerate_day_alone_runs_green(estate, defs, name):
    """One day whose EffectiveCost sums to 0 crashed allocated_costs after it was written."""
    days = _degenerate_days(estate)
    day = next(d for d, n in days.items() if n == name)
    result = run_assets(defs, estate.instance, ["applicable_rules", *ACTUATED], [day])
    assert result.success
    assert all(checks_passed(result).values()), checks_passed(result)
    [allocated] = result.asset_materializations_for_node("allocated_costs")
    if name == "zero_total":
        assert "| USD |" in allocated.metadata["coverage"].value  # shares shown empty, not 0/0
    assert estate.lake.read_day(tables.BUDGET_STATUS, day).height > 0


def test_an_unreadable_recorded_version_fails_the_day_with_a_clear_message(estate, defs):
    """The files of the allocation the ledger must read are gone (lost, or vacuumed)."""
    day = DAYS[0]
    assert run_assets(defs, estate.instance, AUDITED, [day]).success
    kept = ledger(estate, day)
    folder = Path(estate.lake.table_uri(tables.ALLOCATED_COSTS)) / f"x_charge_date={day}"
    files = list(folder.rglob("*.parquet"))
    assert files
    for file in files:
        file.unlink()
    try:
        result = run_assets(defs, estate.instance, ["allocation_audit"], [day])
        assert not result.success
        failures = [
            e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE
        ]
        message = str(failures[0].step_failure_data.error)  # type: ignore[union-attr]
        assert f"allocation_audit {day}: cannot read allocated_costs version" in message
        assert "re-run allocated_costs" in message
        assert_frame_equal(ledger(estate, day), kept)
    finally:  # the remedy the message names
        assert run_assets(defs, estate.instance, AUDITED, [day]).success
    assert_frame_equal(ledger(estate, day), kept)
