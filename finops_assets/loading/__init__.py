"""`finops load PATH...`: provider export files as downloaded -> landing layout -> lake, reconciled."""

import datetime as dt
from pathlib import Path

import polars as pl

from finops_assets.domain import reconcile
from finops_assets.loading.plan import LoadError, plan_deliveries
from finops_assets.loading.run import (
    LoadOutcome,
    ensure_partitions_reach,
    lay_out,
    materialize_days,
    reconcile_lake,
    render,
    split_complete_days,
)
from finops_assets.settings import Settings

__all__ = ["LoadError", "LoadOutcome", "load_paths", "render"]


def load_paths(settings: Settings, paths: list[Path]) -> tuple[LoadOutcome, list[str]]:
    """Plan, lay out, materialize and reconcile; returns the outcome and lines about skipped files.

    Nothing is written before every file has been detected, checked and parsed: one bad or
    unsupported file refuses the whole load.
    """
    deliveries = plan_deliveries(paths)
    notes = [line for d in deliveries for line in d.skipped]
    for delivery in deliveries:
        # S101: type narrowing only: plan_deliveries sets source and period on every delivery (or raises)
        assert delivery.source is not None and delivery.period is not None  # noqa: S101
        notes.append(
            f"{delivery.source.SOURCE} delivery '{delivery.export}' "
            f"{delivery.period[0]}..{delivery.period[1]}: {len(delivery.files)} file(s)"
        )
    first = min(d.period[0] for d in deliveries if d.period is not None)
    ensure_partitions_reach(first)
    replaced = lay_out(deliveries, settings.landing_dir)
    days = replaced | {
        d.period[0] + dt.timedelta(days=n)
        for d in deliveries
        if d.period is not None
        for n in range((d.period[1] - d.period[0]).days + 1)
    }
    complete, pending = split_complete_days(days)
    if pending:
        notes.append(
            f"{', '.join(d.isoformat() for d in pending)}: not a complete day yet (the daily "
            "partitions end yesterday, UTC); laid out, and loaded by `finops load` run again "
            "after the day is over"
        )
    if not complete:
        return LoadOutcome(
            reconcile.reconcile(*[pl.DataFrame(schema=reconcile.TOTALS_SCHEMA)] * 3),
            [],
            pl.DataFrame(),
        ), notes
    runs = materialize_days(settings, complete)
    outcome = reconcile_lake(settings, deliveries, complete)
    return LoadOutcome(outcome.table, runs, outcome.reasons, outcome.rows), notes
