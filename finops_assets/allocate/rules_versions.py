"""The rule sets allocation_rules materialized, stored in the lake by data version.

allocated_costs allocates with the version Dagster last materialized for allocation_rules,
read from this table, never from the rules file: an edit to the file changes nothing until
someone materializes allocation_rules, which is also what marks the allocated days stale.
"""

import polars as pl

from finops_assets.domain.rules import AllocationRules, load_rules
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake


class RulesNotMaterializedError(RuntimeError):
    """No materialized rule set to allocate with; the message says what to materialize."""


def record_rules(delta: DeltaLake, text: str, loaded: AllocationRules) -> int:
    """Store a rule set under its data version (once) and return the table's Delta version."""
    stored = delta.read_all(tables.ALLOCATION_RULES)
    if loaded.data_version in stored["data_version"].to_list():
        return delta.version(tables.ALLOCATION_RULES) or 0
    row = pl.DataFrame(
        {
            "rules_version": [loaded.version],
            "data_version": [loaded.data_version],
            "content_hash": [loaded.content_hash],
            "rules_yaml": [text],
        }
    )
    merged = pl.concat([stored, row]).sort("data_version")
    return delta.write_all(tables.ALLOCATION_RULES, merged)


def rules_in_force(delta: DeltaLake, data_version: str | None) -> AllocationRules:
    """The stored rule set of `data_version` (the latest materialization of allocation_rules)."""
    if data_version is None:
        raise RulesNotMaterializedError(
            "allocation_rules has never been materialized; materialize allocation_rules first "
            "(allocated_costs allocates with the materialized rules, never the file directly)"
        )
    stored = delta.read_all(tables.ALLOCATION_RULES).filter(pl.col("data_version") == data_version)
    if stored.is_empty():
        raise RulesNotMaterializedError(
            f"rule set {data_version} is not in the lake table {tables.ALLOCATION_RULES.name}; "
            "materialize allocation_rules again to store it"
        )
    loaded = load_rules(stored["rules_yaml"][0])
    if loaded.data_version != data_version:
        raise RulesNotMaterializedError(
            f"stored rule set {data_version} parses as {loaded.data_version}; "
            "materialize allocation_rules again"
        )
    return loaded
