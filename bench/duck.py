"""(b) The DuckDB baseline: the same normalize + allocate as one SQL query (allocate.sql)."""

from pathlib import Path

import duckdb
import polars as pl

from bench.reference import DATA_DIR, Reference
from finops_assets.domain.allocate_drivers import BYTE_UNITS_TO_GB
from finops_assets.domain.money import MONEY, MONEY_SCALE

SQL = Path(__file__).with_name("allocate.sql")
# Match keys the baseline query handles: hierarchy by account, tags by the rules' tag values.
_ACCOUNT_KEYS = {"provider", "sub_account_id"}
TOTALS = """
SELECT x_business_unit, count(*), sum("BilledCost"), sum("EffectiveCost"),
    sum(x_billed_cost_base), sum(x_effective_cost_base)
FROM allocated GROUP BY x_business_unit ORDER BY x_business_unit
"""


def reference_tables(reference: Reference) -> dict[str, pl.DataFrame]:
    """The reference data and the rules as the small tables the query joins."""
    rules = reference.rules
    hierarchy = [
        (provider, account.lower(), rule.business_unit, rule.id)
        for rule in rules.hierarchy
        if set(rule.match) == _ACCOUNT_KEYS
        for provider in rule.match["provider"]
        for account in rule.match["sub_account_id"]
    ]
    tag_units = [
        (key, position, value, unit)
        for position, key in enumerate(rules.tag_keys)
        for value, unit in rules.tag_values.get(key, {}).items()
    ]
    targets = [
        (rule.id, unit, position)
        for rule in rules.shared
        for position, unit in enumerate(sorted(rule.targets))
    ]
    return {
        "rates": reference.rates.select("currency", pl.col("x_fx_rate").alias("rate")),
        "catalog": reference.catalog.select(
            pl.col("provider").str.to_lowercase(),
            pl.col("service_code").str.strip_chars().str.to_lowercase().alias("code"),
            pl.col("ServiceName").alias("name"),
            pl.col("ServiceCategory").alias("category"),
        ),
        "tag_aliases": pl.DataFrame(
            list(reference.tag_aliases.items()), schema=["normalized", "canonical"], orient="row"
        ),
        "tag_units": pl.DataFrame(
            tag_units, schema=["tag_key", "key_pos", "value", "unit"], orient="row"
        ),
        "hierarchy": pl.DataFrame(
            hierarchy, schema=["provider", "sub_account", "unit", "rule_id"], orient="row"
        ),
        "pool_rules": pl.DataFrame(
            [(r.id, r.driver) for r in rules.shared], schema=["pool", "driver"], orient="row"
        ),
        "pool_targets": pl.DataFrame(targets, schema=["pool", "unit", "pos"], orient="row"),
        "byte_units": pl.DataFrame(
            {"unit": list(BYTE_UNITS_TO_GB), "factor": list(BYTE_UNITS_TO_GB.values())},
            schema={"unit": pl.Utf8, "factor": MONEY},
        ),
    }


def normalize_and_allocate(path: Path, reference: Reference) -> dict[str, list[str]]:
    """Run allocate.sql on the Parquet export; totals per business unit (see totals_text)."""
    # Defaults but for a good neighbour's limits on a shared machine: 2 threads (as Polars has),
    # at most 8 GB of memory, spilling under bench/data.
    con = duckdb.connect(config={"threads": 2, "memory_limit": "8GB"})
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute("SET temp_directory = ?", [str(DATA_DIR / ".duckdb-spill")])
        for name, frame in reference_tables(reference).items():
            con.register(name, frame.to_arrow())
        con.read_parquet(str(path), file_row_number=True).create_view("cur")
        con.execute("SET VARIABLE minor_units = ?", [reference.minor_units])
        con.execute("SET VARIABLE unit = ?::HUGEINT", [10 ** (MONEY_SCALE - reference.minor_units)])
        con.execute(SQL.read_text(encoding="utf-8"))
        rows = con.execute(TOTALS).fetchall()
        return {row[0]: [str(row[1]), *(format(v, ".10f") for v in row[2:])] for row in rows}
    finally:
        con.close()
