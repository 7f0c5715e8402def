"""`finops load PATH...`: provider export files as downloaded -> landing layout -> lake, reconciled."""

from pathlib import Path

from finops_assets.loading.plan import LoadError, plan_deliveries
from finops_assets.loading.run import (
    LoadOutcome,
    ensure_partitions_reach,
    lay_out,
    materialize_days,
    reconcile_lake,
    render,
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
        d.period[0] + __import__("datetime").timedelta(days=n)
        for d in deliveries
        if d.period is not None
        for n in range((d.period[1] - d.period[0]).days + 1)
    }
    runs = materialize_days(settings, days)
    outcome = reconcile_lake(settings, deliveries)
    return LoadOutcome(outcome.table, runs, outcome.reasons), notes
