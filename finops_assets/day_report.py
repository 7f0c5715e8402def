"""The Dagster events of a day-writer's run (day_writer.py): per-day materializations with
their data versions, per-day check evaluations, and the failure raised when a day was not written.
"""

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext

from finops_assets.check_failures import json_safe
from finops_assets.dagster_private import data_version_tags, latest_check_targets

DayEvent = dg.MaterializeResult | dg.AssetMaterialization | dg.AssetCheckEvaluation | dg.Output
SHOWN_FAILURES = 20


class DaysFailedError(dg.Failure):
    """Raised at the end of a run in which some days were not written."""


@dataclass
class DayRecord:
    """What one day of a run gave: check failures, metadata, and its data version if written."""

    day: dt.date
    failures: dict[str, list[dict]]
    metadata: dict[str, Any] = field(default_factory=dict)
    data_version: str | None = None  # None: the day was not written
    check_metadata: dict[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def written(self) -> bool:
        return self.data_version is not None


class DayReport:
    """Report a run's day records to Dagster (see day_writer.py's module doc)."""

    def __init__(
        self,
        context: AssetExecutionContext,
        specs: Mapping[str, dg.AssetCheckSpec],
        days: Sequence[dt.date],
        records: list[DayRecord],
    ) -> None:
        self._context = context
        self._specs = specs
        self.days = days
        self.records = records

    def events(self, error: BaseException | None = None) -> Iterator[DayEvent]:
        """The Dagster events of the run's days; raises when a day failed (see module doc)."""
        written = [r for r in self.records if r.written]
        failed = [r for r in self.records if not r.written]
        if error is None and not failed:
            yield from self._success(written)
            return
        for record in written:
            yield self._day_materialization(record)
        yield from self._check_evaluations()
        raise DaysFailedError(
            description=self._failure_text(failed, error),
            metadata={
                "days_written": dg.MetadataValue.json([r.day.isoformat() for r in written]),
                "days_failed": dg.MetadataValue.json([r.day.isoformat() for r in failed]),
            },
        ) from error

    def _success(self, written: list[DayRecord]) -> Iterator[DayEvent]:
        if len(self.days) == 1:  # one day: the output's one materialization carries it all
            record = written[0]
            yield dg.MaterializeResult(
                metadata=record.metadata,
                data_version=dg.DataVersion(record.data_version or ""),
            )
        else:
            for record in written:
                self._context.add_asset_metadata(
                    record.metadata, partition_key=record.day.isoformat()
                )
            yield dg.MaterializeResult()
            for record in written:
                yield self._day_materialization(record)
        yield from self._check_evaluations()
        for output_name in self._check_outputs():
            yield dg.Output(None, output_name=output_name)

    def _day_materialization(self, record: DayRecord) -> dg.AssetMaterialization:
        return dg.AssetMaterialization(
            asset_key=self._context.asset_key,
            partition=record.day.isoformat(),
            metadata=record.metadata,
            tags=data_version_tags(self._context, record.data_version or ""),
        )

    def _check_evaluations(self) -> Iterator[dg.AssetCheckEvaluation]:
        # Each day's result names the day's latest materialization (the one just recorded, or
        # the earlier one a failed day keeps): Dagster shows a day's check result only then.
        days = [record.day.isoformat() for record in self.records]
        targets = latest_check_targets(self._context.instance, self._context.asset_key, days)
        for record in self.records:
            for name, failures in record.failures.items():
                spec = self._specs[name]
                day = record.day.isoformat()
                yield dg.AssetCheckEvaluation(
                    asset_key=self._context.asset_key,
                    check_name=name,
                    passed=not failures,
                    partition=day if spec.partitions_def else None,
                    target_materialization_data=targets.get(day) if spec.partitions_def else None,
                    severity=dg.AssetCheckSeverity.ERROR
                    if spec.blocking
                    else dg.AssetCheckSeverity.WARN,
                    blocking=spec.blocking,
                    description=spec.description,
                    metadata={
                        "day": record.day.isoformat(),
                        "failure_count": len(failures),
                        "failures": dg.MetadataValue.json(json_safe(failures[:SHOWN_FAILURES])),
                        "day_written": record.written,
                        **record.check_metadata.get(name, {}),
                    },
                )

    def _check_outputs(self) -> list[str]:
        by_output = self._context.assets_def.check_specs_by_output_name
        return [name for name, spec in by_output.items() if spec.name in self._specs]

    def _failure_text(self, failed: list[DayRecord], error: BaseException | None) -> str:
        asset = self._context.asset_key.to_user_string()
        lines = [f"{asset}: {len(failed)} day(s) not written, their partitions failed:"]
        for record in failed:
            broken = {n: f for n, f in record.failures.items() if f}
            reason = record.metadata.get("error") or "; ".join(
                f"{name}: {len(found)} failure(s), first {found[0]}"
                for name, found in broken.items()
            )
            lines.append(f"- {record.day}: {reason}")
        if error is not None and not failed:
            lines.append(f"- {type(error).__name__}: {error}")
        return "\n".join(lines)
