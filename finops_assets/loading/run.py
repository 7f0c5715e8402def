"""`finops load`, steps 2 to 4: lay deliveries into the landing folder, materialize their days,
reconcile per day and currency.

Landing layout: `<landing>/<source>/<YYYYMMDD-YYYYMMDD>/<export>/` holds one export's current
delivery for the period (first and last charge day); loading a newer delivery of the same export
and billing month replaces that folder, so superseded files never mix with the new ones, and
the days the old delivery covered are run again (a day that lost all its rows becomes empty).
"""

import datetime as dt
import os
import shutil
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import polars as pl

from finops_assets.domain import reconcile
from finops_assets.loading.plan import Delivery, LoadError
from finops_assets.resources.payloads import period_folder_name, period_span
from finops_assets.settings import Settings
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake


@dataclass(frozen=True)
class RunOutcome:
    """One Dagster run of a load: its days, id, success and the steps that failed (and why)."""

    first: dt.date
    last: dt.date
    run_id: str
    success: bool
    failures: tuple[str, ...] = ()


_NO_ROWS = reconcile.reconcile_rows(*[pl.DataFrame(schema=reconcile.ROWS_SCHEMA)] * 3)


@dataclass(frozen=True)
class LoadOutcome:
    """What a load did: the tables of reconciliation (amounts per day and currency, rows per
    day) and each run's id and success."""

    table: pl.DataFrame
    runs: list[RunOutcome]
    reasons: pl.DataFrame
    rows: pl.DataFrame = field(default_factory=lambda: _NO_ROWS)

    @property
    def reconciled(self) -> bool:
        return (
            all(run.success for run in self.runs)
            and bool(self.table["reconciled"].all())
            and bool(self.rows["reconciled"].all())
        )


def lay_out(deliveries: list[Delivery], landing: Path) -> set[dt.date]:
    """Write each delivery into its period folder; the days of replaced deliveries are returned."""
    replaced: set[dt.date] = set()
    for delivery in deliveries:
        # S101: type narrowing only: plan_deliveries sets source and period on every delivery (or raises)
        assert delivery.source is not None and delivery.period is not None  # noqa: S101
        base = landing / delivery.source.SOURCE
        month = delivery.period[0].replace(day=1)
        for old in sorted(base.glob(f"*/{delivery.export}")) if base.is_dir() else []:
            span = period_span(old.parent.name)
            if span and span[0].replace(day=1) == month:
                replaced |= _days(span)
                shutil.rmtree(old)
                if not any(old.parent.iterdir()):
                    old.parent.rmdir()
        folder = base / period_folder_name(*delivery.period) / delivery.export
        folder.mkdir(parents=True, exist_ok=True)
        for file in delivery.files:
            shutil.copy2(file.path, folder / file.name)
        if delivery.manifest is not None:
            (folder / delivery.manifest[0]).write_bytes(delivery.manifest[1])
    return replaced


def ensure_partitions_reach(first: dt.date) -> None:
    """Let the daily partitions start early enough for `first` (before definitions load)."""
    from finops_assets.settings import partitions_start

    if first >= dt.date.fromisoformat(partitions_start()):
        return
    if "finops_assets.definitions" in __import__("sys").modules:
        raise LoadError(
            f"charge days from {first} precede FINOPS_PARTITIONS_START={partitions_start()}: "
            f"set FINOPS_PARTITIONS_START={first} and run again"
        )
    os.environ["FINOPS_PARTITIONS_START"] = first.isoformat()


def materialize_days(settings: Settings, days: set[dt.date]) -> list[RunOutcome]:
    """One in-process ranged run per stretch of consecutive days (one run for one period)."""
    from finops_assets.demo import materialize_window, prepare_instance

    instance = prepare_instance(settings)
    selection = load_selection(instance)
    runs = []
    for start, end in _stretches(sorted(days)):
        result = materialize_window(instance, start, end, selection)
        failures = tuple(
            f"{event.step_key}: {_first_line(event.step_failure_data.error)}"
            for event in result.get_step_failure_events()
        )
        runs.append(RunOutcome(start, end, result.run_id, result.success, failures))
    return runs


def load_selection(instance: object) -> str:
    """What a load runs: what a newly landed file runs (the landing sensor's selection: every
    cost stage, not the monthly report), plus allocation_rules on an instance that never
    materialized it (allocation reads the materialized rule version)."""
    import dagster as dg

    from finops_assets.definitions import defs
    from finops_assets.ingest.sensors import DOWNSTREAM, RULES

    keys = set(DOWNSTREAM.resolve(defs.resolve_asset_graph()))
    if isinstance(instance, dg.DagsterInstance) and not instance.get_latest_materialization_event(
        RULES
    ):
        keys.add(RULES)
    return ",".join(sorted(key.to_user_string() for key in keys))


def _first_line(error: object) -> str:
    message = getattr(error, "message", None) or str(error)
    lines = [line.strip() for line in str(message).splitlines() if line.strip()]
    return " ".join(lines[:2])[:300]


def split_complete_days(days: set[dt.date]) -> tuple[set[dt.date], list[dt.date]]:
    """(days that are daily partitions, days not complete yet: today and later, sorted)."""
    from finops_assets.partitions import daily_partitions

    complete = {d for d in days if daily_partitions.has_partition_key(d.isoformat())}
    return complete, sorted(days - complete)


def reconcile_lake(
    settings: Settings, deliveries: list[Delivery], complete: set[dt.date]
) -> LoadOutcome:
    """Per day and currency: the files' totals against normalized_costs and the quarantine;
    per day: the files' rows against normalized and quarantined rows."""
    delta = DeltaLake(settings.lake_uri, settings.storage_options)
    keys = set().union(*(d.ingestion_keys() for d in deliveries))
    days = sorted({day for d in deliveries for day in _days(d.period) if day in complete})  # type: ignore[arg-type]
    ours = pl.col("x_ingestion_key").is_in(sorted(keys))
    normalized = delta.read_days(tables.NORMALIZED_COSTS, days).filter(ours)
    quarantine = delta.read_days(tables.QUARANTINE, days).filter(ours)
    files = (
        pl.concat([d.totals() for d in deliveries])
        .filter(pl.col("day").is_in(days))
        .group_by("day", "currency")
        .agg(pl.col("amount").sum())
    )
    table = reconcile.reconcile(
        files,
        reconcile.normalized_amounts(normalized),
        reconcile.quarantined_amounts(quarantine, "x_charge_date"),
    )
    files_rows = reconcile.row_counts([d.rows() for d in deliveries])
    rows = reconcile.reconcile_rows(
        files_rows.filter(pl.col("day").is_in(days)),
        reconcile.row_counts([normalized], "x_charge_date"),
        reconcile.row_counts([quarantine], "x_charge_date"),
    )
    reasons = (
        quarantine.group_by("x_charge_date", "x_source", "x_reason")
        .agg(pl.len().alias("rows"))
        .sort("x_charge_date", "x_source", "x_reason")
    )
    return LoadOutcome(table, [], reasons, rows)


def render(outcome: LoadOutcome) -> str:
    """The report printed by `finops load`: one line per day and currency, then the reasons."""
    columns = ("file_total", "normalized", "quarantined", "difference")
    lines = [f"{'day':<10}  {'currency':<8}" + "".join(f"  {c:>20}" for c in columns)]
    for row in outcome.table.iter_rows(named=True):
        amounts = "".join(f"  {_money(row[c]):>20}" for c in columns)
        mark = "" if row["reconciled"] else "  NOT RECONCILED"
        lines.append(f"{row['day']!s:<10}  {row['currency']:<8}{amounts}{mark}")
    if outcome.rows.height:
        lines.append("rows per day (zero-cost rows too):")
    for row in outcome.rows.iter_rows(named=True):
        mark = "" if row["reconciled"] else "  NOT RECONCILED"
        lines.append(
            f"  {row['day']!s}  file {row['file_rows']} = normalized {row['normalized_rows']} "
            f"+ quarantined {row['quarantined_rows']}, difference {row['difference']}{mark}"
        )
    if outcome.reasons.height:
        lines.append("quarantined rows, with reasons:")
        for row in outcome.reasons.iter_rows(named=True):
            lines.append(
                f"  {row['x_charge_date']}  {row['x_source']}: {row['rows']} x {row['x_reason']}"
            )
    for run in outcome.runs:
        state = "succeeded" if run.success else "FAILED (details: `finops dev`, Runs)"
        lines.append(f"run {run.run_id} ({run.first}..{run.last}): {state}")
        lines += [f"  failed step {failure}" for failure in run.failures]
    verdict = "reconciled exactly" if outcome.reconciled else "does NOT reconcile"
    if outcome.table.is_empty() and not outcome.runs:
        verdict = "no complete day to load yet"
    lines.append(f"finops load: {verdict}")
    return "\n".join(lines)


def _money(value: Decimal) -> str:
    """A Decimal without exponent or trailing zeros (0E-10 -> 0, 1.2300000000 -> 1.23)."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _days(span: tuple[dt.date, dt.date]) -> set[dt.date]:
    return {span[0] + dt.timedelta(days=n) for n in range((span[1] - span[0]).days + 1)}


def _stretches(days: list[dt.date]) -> list[tuple[dt.date, dt.date]]:
    stretches: list[tuple[dt.date, dt.date]] = []
    for day in days:
        if stretches and day - stretches[-1][1] == dt.timedelta(days=1):
            stretches[-1] = (stretches[-1][0], day)
        else:
            stretches.append((day, day))
    return stretches
