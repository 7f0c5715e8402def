"""Lake maintenance: a schedule (stopped by default) that vacuums every Delta table once a day."""

import dagster as dg

from finops_assets.resources.lake import LakeResource
from finops_assets.storage.vacuum import DEFAULT_RETENTION_HOURS, vacuum_lake


class VacuumConfig(dg.Config):
    """How old an unreferenced file must be before it is deleted (never below the tables' own)."""

    retention_hours: int = DEFAULT_RETENTION_HOURS


@dg.op
def vacuum_delta_tables(
    context: dg.OpExecutionContext, config: VacuumConfig, lake: LakeResource
) -> dg.Output[int]:
    """Delete the Parquet files of killed writes and expired versions from every Delta table."""
    reports = vacuum_lake(lake.delta(), config.retention_hours)
    removed = sum(len(report.removed) for report in reports)
    for report in reports:
        if report.removed:
            context.log.info(f"{report.table}: removed {len(report.removed)} unreferenced files")
    return dg.Output(
        removed,
        metadata={
            "files_removed": removed,
            "retention_hours": config.retention_hours,
            "tables": dg.MetadataValue.json(
                {report.table: len(report.removed) for report in reports}
            ),
        },
    )


@dg.job(tags={"finops/maintenance": "vacuum"})
def vacuum_job() -> None:
    """Vacuum every Delta table of the lake."""
    vacuum_delta_tables()


lake_maintenance_schedule = dg.ScheduleDefinition(
    name="lake_maintenance_schedule",
    job=vacuum_job,
    cron_schedule="30 4 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description=(
        "Daily at 04:30 UTC: vacuum files no Delta commit references (killed writes, versions "
        "older than the 7-day retention). Stopped by default; start it in the UI."
    ),
)
