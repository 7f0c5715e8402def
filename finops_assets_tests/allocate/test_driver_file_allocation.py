"""A driver file in the landing folder splits the sample's AWS support plan (issue 21 Deliver 4).

Real temp Dagster instance, real Delta tables: the customer drops landing/drivers/support_seats/
2026-10.csv (seats per business unit, one key given as a tag value, one bad row). The rule
`aws-support` is switched from compute_cost to `split_by: {file: support_seats, measure: seats}`.
allocation_drivers_raw lands the file (the bad row quarantined with its reason), allocated_costs
splits the plan (billed on the first of the month) 5:3:2 exactly and conserves it. The shared
database is switched to `split_by: {file: db_queries}`, whose one day file covers the first day
only: on the second, its pool stays unallocated with the reason. allocated_costs declares the
driver table as a dependency (lineage).
"""

from decimal import Decimal

import dagster as dg
import polars as pl
import pytest

from finops_assets.domain.money import split_largest_remainder
from finops_assets.settings import Settings
from finops_assets.storage import tables
from finops_assets_tests.allocate.conftest import DAYS, Estate, run_assets
from finops_assets_tests.allocate.rules_change import definitions_with_rules, write_shipped_rules

pytestmark = pytest.mark.slow

RULE = "aws-support"
SHIPPED = "match: {provider: aws, service_name_contains: support}\n    driver: compute_cost"
SPLIT = (
    "match: {provider: aws, service_name_contains: support}\n"
    "    split_by: {file: support_seats, measure: seats}"
)
FIRST, SECOND = DAYS
SEATS = {"payments": Decimal(5), "search": Decimal(3), "ml-research": Decimal(2)}
FILE = (
    "day,key,measure,quantity\n"
    f"{FIRST},payments,seats,5\n"
    f"{FIRST},search,seats,3\n"
    f"{FIRST},ML,seats,2\n"  # a tag value of ml-research
    f"{FIRST},payments,desks,99\n"  # another measure: not used by the rule
    f"{FIRST},search,seats,lots\n"  # line 6: quarantined
)
DATABASE = "azure-shared-database"
FIXED = "    driver: fixed\n    targets: [marketing-web, payments, search]\n"
FIXED_PERCENT = "    percentages: {marketing-web: 50, payments: 30, search: 20}\n"
QUERIES = "    split_by: {file: db_queries}\n    targets: [marketing-web, payments, search]\n"
KEYS = ["allocation_drivers_raw", "allocation_rules", "applicable_rules", "allocated_costs"]


def _pool(estate: Estate, day, rule: str = RULE) -> pl.DataFrame:
    frame = estate.lake.read_day(tables.ALLOCATED_COSTS, day)
    return frame.filter(pl.col("x_allocation_rule_id") == rule)


def _normalized_pool(estate: Estate, day, rule: str = RULE) -> Decimal:
    """A shared pool's cost that day, from normalized_costs (base currency)."""
    before = estate.lake.read_day(tables.ALLOCATED_COSTS, day)
    keys = before.filter(pl.col("x_allocation_rule_id") == rule)["x_source_row_key"].unique()
    normalized = estate.lake.read_day(tables.NORMALIZED_COSTS, day)
    return normalized.filter(pl.col("x_source_row_key").is_in(keys.implode()))[
        "x_effective_cost_base"
    ].sum()


def test_a_driver_file_splits_the_support_plan_and_shows_in_lineage(estate: Estate, tmp_path):
    rules = write_shipped_rules(tmp_path / "rules.yaml")
    text = rules.read_text(encoding="utf-8")
    assert SHIPPED in text and FIXED + FIXED_PERCENT in text
    text = text.replace(SHIPPED, SPLIT).replace(FIXED + FIXED_PERCENT, QUERIES)
    rules.write_text(text, encoding="utf-8")
    defs = definitions_with_rules(rules)
    graph = defs.resolve_asset_graph()
    parents = graph.get(dg.AssetKey("allocated_costs")).parent_keys
    assert dg.AssetKey("allocation_drivers_raw") in parents  # lineage in the UI
    pool = {day: _normalized_pool(estate, day) for day in DAYS}
    database = {day: _normalized_pool(estate, day, DATABASE) for day in DAYS}
    assert pool[FIRST] > 0 and pool[SECOND] == 0  # the support plan is billed on the first
    assert database[FIRST] > 0 and database[SECOND] > 0
    drivers = Settings.from_env().landing_dir / "drivers"
    (drivers / "support_seats").mkdir(parents=True)
    (drivers / "support_seats" / f"{FIRST:%Y-%m}.csv").write_text(FILE, encoding="utf-8")
    (drivers / "db_queries").mkdir()
    queries = (
        f"day,key,measure,quantity\n{FIRST},marketing-web,queries,1\n{FIRST},payments,queries,1\n"
    )
    (drivers / "db_queries" / f"{FIRST}.csv").write_text(queries, encoding="utf-8")

    assert run_assets(defs, estate.instance, KEYS, DAYS).success

    landed = estate.lake.read_day(tables.ALLOCATION_DRIVERS_RAW, FIRST)
    assert dict(landed.group_by("x_driver").len().rows()) == {"support_seats": 4, "db_queries": 2}
    quarantine = estate.lake.read_day(tables.QUARANTINE, FIRST).filter(
        pl.col("x_source") == "allocation_drivers"
    )
    assert quarantine.select("x_source_file", "x_source_line", "x_column").rows() == [
        ("drivers/support_seats/2026-10.csv", 6, "quantity")
    ]
    assert "'lots' is not a number" in quarantine["x_reason"][0]

    first = _pool(estate, FIRST)
    by_unit = dict(
        first.group_by("x_business_unit").agg(pl.col("x_effective_cost_base").sum()).rows()
    )
    assert set(by_unit) == set(SEATS)
    assert sum(by_unit.values()) == pool[FIRST]  # the pool, to the cent
    # the sample bills the plan as one row: its exact 5:3:2 split, by the project's method
    assert first["x_source_row_key"].n_unique() == 1
    units = sorted(SEATS)
    exact = split_largest_remainder(pool[FIRST], [SEATS[u] for u in units], 2)
    assert by_unit == dict(zip(units, exact, strict=True))
    assert (pool[FIRST], by_unit["payments"], by_unit["search"]) == (
        Decimal("164.63"),
        Decimal("82.31"),
        Decimal("49.39"),
    )
    assert set(first["x_allocation_driver"]) == {"file:support_seats"}

    shared_db = _pool(estate, FIRST, DATABASE)
    halves = dict(
        shared_db.group_by("x_business_unit").agg(pl.col("x_effective_cost_base").sum()).rows()
    )
    assert set(halves) == {"marketing-web", "payments"}  # search has no queries: no share
    assert sum(halves.values()) == database[FIRST]
    second = _pool(estate, SECOND, DATABASE)  # db_queries has no file for the second day
    assert set(second["x_business_unit"]) == {"unallocated"}
    assert set(second["x_allocation_method"]) == {"unallocated"}
    assert set(second["x_allocation_driver"]) == {
        f"file:db_queries(no driver quantity on {SECOND}: unallocated)"
    }
    assert second["x_effective_cost_base"].sum() == database[SECOND]


def test_a_restated_driver_file_moves_the_pool_and_is_audited_as_a_restatement(
    estate: Estate, tmp_path
):
    """The customer corrects the queries file: the day is re-allocated, conserved, and the
    allocation ledger names the cause (the driver rows are part of the day's inputs)."""
    rules = write_shipped_rules(tmp_path / "rules.yaml")
    text = rules.read_text(encoding="utf-8").replace(FIXED + FIXED_PERCENT, QUERIES)
    rules.write_text(text, encoding="utf-8")
    defs = definitions_with_rules(rules)
    folder = Settings.from_env().landing_dir / "drivers" / "db_queries"
    folder.mkdir(parents=True, exist_ok=True)
    header = "day,key,measure,quantity\n"
    (folder / f"{FIRST}.csv").write_text(header + f"{FIRST},payments,queries,1\n", "utf-8")
    audited = [*KEYS, "allocation_audit"]
    assert run_assets(defs, estate.instance, audited, [FIRST]).success
    assert set(_pool(estate, FIRST, DATABASE)["x_business_unit"]) == {"payments"}
    before = estate.lake.read_day(tables.ALLOCATION_AUDIT, FIRST)["x_sequence"].max()

    (folder / f"{FIRST}.csv").write_text(header + f"{FIRST},search,queries,1\n", "utf-8")
    assert run_assets(defs, estate.instance, audited, [FIRST]).success

    pool = _pool(estate, FIRST, DATABASE)
    assert set(pool["x_business_unit"]) == {"search"}
    assert pool["x_effective_cost_base"].sum() == _normalized_pool(estate, FIRST, DATABASE)
    ledger = estate.lake.read_day(tables.ALLOCATION_AUDIT, FIRST)
    entry = ledger.filter(pl.col("x_sequence") > before)
    assert entry.height > 0 and entry["cause"].unique().to_list() == ["restatement"]
