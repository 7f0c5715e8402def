"""Which allocated_costs commit last replaced a day, read from the table's own Delta log.

Each write of a day of allocated_costs carries, in its Delta commit, the charge day, the run,
the rule version and what it read (the inputs' digest and the normalized_costs version). The
per-day record the ledger needs (ALLOCATION_VERSIONS columns) is derived from that log, so it
can never disagree with the table: it commits with the day, in the same commit, or not at all.
"""

import datetime as dt

import polars as pl

from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake

DAY_KEY, RUN_KEY, RULES_KEY = "x_charge_date", "x_run_id", "x_rule_version"
INPUT_KEY, NORMALIZED_KEY = "x_input_version", "x_normalized_version"


def allocation_commit_metadata(
    day: dt.date,
    run_id: str,
    rule_version: str,
    input_version: str,
    normalized_version: int | None,
) -> dict[str, str]:
    """What a write of `day` records in its allocated_costs commit (all text)."""
    return {
        DAY_KEY: day.isoformat(),
        RUN_KEY: run_id,
        RULES_KEY: rule_version,
        INPUT_KEY: input_version,
        NORMALIZED_KEY: "" if normalized_version is None else str(normalized_version),
    }


def allocation_versions(delta: DeltaLake, day: dt.date) -> pl.DataFrame:
    """The latest allocation of `day` (ALLOCATION_VERSIONS columns): one row, or none.

    x_delta_version_after is the commit that replaced the day; x_delta_version_before the table
    version just before it (null when that commit created the table).
    """
    for commit in delta.commits(tables.ALLOCATED_COSTS):
        if commit.get(DAY_KEY) == day.isoformat():
            after = int(commit["version"])
            row = {
                "x_charge_date": day,
                "x_run_id": commit.get(RUN_KEY),
                "x_rule_version": commit.get(RULES_KEY),
                "x_delta_version_before": after - 1 if after > 0 else None,
                "x_delta_version_after": after,
                "x_input_version": commit.get(INPUT_KEY),
                "x_normalized_version": int(commit[NORMALIZED_KEY])
                if commit.get(NORMALIZED_KEY)
                else None,
            }
            return pl.DataFrame([row], schema=tables.ALLOCATION_VERSIONS.schema)
    # A lake allocated before the record moved into the commit log still has the old table.
    return delta.read_day(tables.ALLOCATION_VERSIONS, day)
