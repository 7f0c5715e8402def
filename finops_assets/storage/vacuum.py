"""Vacuum: delete Parquet files that no Delta commit references (killed writes, old versions).

A write killed before its commit leaves Parquet files that no reader sees but that take space
forever; an overwritten day leaves the files of its old version. `vacuum_lake` removes both from
every table of the lake once they are older than the retention. The retention is also what
keeps a write still in flight safe (its files are not committed yet), and how far back time
travel reaches, so it is never below the tables' own `delta.deletedFileRetentionDuration`
(7 days by default): delta-rs refuses a shorter one, and so do we.
"""

from dataclasses import dataclass

import deltalake
from deltalake.exceptions import DeltaError

from finops_assets.sources import BILLING_SOURCES
from finops_assets.storage import tables
from finops_assets.storage.contract import TableContract
from finops_assets.storage.delta import DeltaLake

DEFAULT_RETENTION_HOURS = 168


@dataclass(frozen=True)
class VacuumReport:
    """One table's vacuum: the files deleted (paths relative to the table) and its version."""

    table: str
    removed: list[str]
    version: int


def declared_tables() -> list[TableContract]:
    """Every Delta table the platform declares (storage/tables.py and one raw table per source)."""
    found = {v.name: v for v in vars(tables).values() if isinstance(v, TableContract)}
    for source in BILLING_SOURCES:
        contract = tables.raw_contract(source)
        found.setdefault(contract.name, contract)
    return [found[name] for name in sorted(found)]


def lake_tables(lake: DeltaLake) -> list[TableContract]:
    """The declared tables that exist in this lake (never written ones are skipped)."""
    return [contract for contract in declared_tables() if lake.exists(contract)]


def vacuum_table(
    lake: DeltaLake, contract: TableContract, retention_hours: int = DEFAULT_RETENTION_HOURS
) -> VacuumReport:
    """Delete one table's unreferenced files older than `retention_hours` (a full vacuum)."""
    table = deltalake.DeltaTable(
        lake.table_uri(contract), storage_options=dict(lake.storage_options) or None
    )
    try:
        removed = table.vacuum(
            retention_hours=retention_hours,
            dry_run=False,
            enforce_retention_duration=True,
            full=True,
        )
    except DeltaError as error:
        if "retention" in str(error).lower():
            raise ValueError(
                f"{contract.name}: a vacuum retention of {retention_hours} h is below the table's "
                f"own retention ({error}); files of writes still running could be deleted"
            ) from error
        raise
    return VacuumReport(contract.name, sorted(removed), table.version())


def vacuum_lake(
    lake: DeltaLake, retention_hours: int = DEFAULT_RETENTION_HOURS
) -> list[VacuumReport]:
    """Vacuum every table of the lake; the first failure stops and names its table."""
    return [vacuum_table(lake, contract, retention_hours) for contract in lake_tables(lake)]
