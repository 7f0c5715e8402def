"""The rule histories allocation_rules materialized, and the version each day applies.

allocation_rules stores each materialized rules file as one row per version with its effective
window (the allocation_rules table, kept forever); applicable_rules records per charge day the
version whose window contains it (the applicable_rules table). allocated_costs allocates a day
with that day's recorded version, never the rules file: an edit to the file changes nothing
until allocation_rules and then applicable_rules are materialized, and then only the days
whose applicable version changed turn stale.
"""

import datetime as dt
import functools

import polars as pl

from finops_assets.domain.rule_history import (
    RuleHistory,
    history_rows,
    is_legacy_history,
    legacy_history_rows,
    load_rule_history,
    load_version_json,
)
from finops_assets.domain.rules import AllocationRules
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake


class RulesNotMaterializedError(RuntimeError):
    """No materialized rule set to allocate with; the message says what to materialize."""


def stored_histories(delta: DeltaLake) -> pl.DataFrame | None:
    """Every stored rule version (None: no table yet).

    A table written before effective dates (one rule set per row, a `rules_yaml` column, no
    windows) is read as one-version histories; the next record_rules rewrites it that way.
    """
    if not delta.exists(tables.ALLOCATION_RULES):
        return None
    frame = delta.scan(tables.ALLOCATION_RULES).collect()
    if "rules_yaml" in frame.columns:
        frame = legacy_history_rows(frame)
    return tables.ALLOCATION_RULES.conform(frame)


def record_rules(delta: DeltaLake, text: str, history: RuleHistory) -> int:
    """Store a rule history's versions under its data version (once); the table's version."""
    stored = stored_histories(delta)
    if stored is not None and history.data_version in stored["history_version"].to_list():
        return delta.version(tables.ALLOCATION_RULES) or 0
    rows = history_rows(history, text)
    merged = rows if stored is None else pl.concat([stored, rows])
    return delta.write_all(
        tables.ALLOCATION_RULES, merged.sort("history_version", maintain_order=True)
    )


def history_in_force(delta: DeltaLake, data_version: str | None) -> RuleHistory:
    """The stored rule history of `data_version` (the latest materialization of allocation_rules)."""
    if data_version is None:
        raise RulesNotMaterializedError(
            "allocation_rules has never been materialized; materialize allocation_rules first "
            "(allocation reads the materialized rules, never the file directly)"
        )
    everything = stored_histories(delta)
    stored = (
        everything.filter(pl.col("history_version") == data_version)
        if everything is not None
        else None
    )
    if stored is None or stored.is_empty():
        raise RulesNotMaterializedError(
            f"rule history {data_version} is not in the lake table {tables.ALLOCATION_RULES.name}; "
            "materialize allocation_rules again to store it"
        )
    history = load_rule_history(stored["history_yaml"][0])
    if history.data_version != data_version and not is_legacy_history(history, data_version):
        raise RulesNotMaterializedError(
            f"stored rule history {data_version} parses as {history.data_version}; "
            "materialize allocation_rules again"
        )
    return history


def rules_in_force(delta: DeltaLake, day: dt.date) -> AllocationRules:
    """The rule version applicable_rules recorded for `day`, loaded and checked."""
    exists = delta.exists(tables.APPLICABLE_RULES)
    stored = delta.read_day(tables.APPLICABLE_RULES, day) if exists else None
    if stored is None or stored.is_empty():
        raise RulesNotMaterializedError(
            f"no rule version recorded for {day}: materialize applicable_rules for that day "
            "(after allocation_rules)"
        )
    return _loaded_version(stored["rules_json"][0], stored["data_version"][0])


@functools.lru_cache(maxsize=16)
def _loaded_version(text: str, data_version: str) -> AllocationRules:
    """load_version_json, once per stored version: every day of a run names the same few
    versions, and parsing one (strict YAML) was most of a reused allocated day's memo check."""
    return load_version_json(text, data_version)
