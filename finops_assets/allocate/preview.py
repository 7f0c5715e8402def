"""allocation_preview: what a candidate rule file would move, without touching allocated_costs.

Materialized with the candidate's path in run config (empty: the rules file the `rules`
resource points at, i.e. an edit not applied yet). `finops rules diff CANDIDATE.yaml` prints
the same figures from the same function.
"""

import datetime as dt
from collections.abc import Iterator, Sequence
from pathlib import Path

import dagster as dg
import polars as pl
from dagster import AssetExecutionContext

from finops_assets.concurrency import writer_pool
from finops_assets.day_writer import DayEvent, DayWriter
from finops_assets.domain.allocate import INPUT_COLUMNS
from finops_assets.domain.preview import preview_day
from finops_assets.domain.rule_history import RuleHistory, load_rule_history
from finops_assets.metadata import markdown_table
from finops_assets.partitions import REVIEW_GROUP, SINGLE_RUN, daily_partitions
from finops_assets.resources.lake import LakeResource
from finops_assets.resources.rules import RulesResource
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake


def preview_days(delta: DeltaLake, candidate: RuleHistory, days: Sequence[dt.date]) -> pl.DataFrame:
    """Before / after / delta per day and business unit for `days` (read-only on the lake)."""
    frames = [
        preview_day(
            day,
            delta.read_day_columns(tables.NORMALIZED_COSTS, day, INPUT_COLUMNS),
            delta.read_day(tables.K8S_USAGE_RAW, day),
            delta.read_day(tables.ALLOCATED_COSTS, day),
            candidate,
            delta.read_day(tables.ALLOCATION_DRIVERS_RAW, day),
        )
        for day in days
    ]
    return pl.concat(frames) if frames else tables.ALLOCATION_PREVIEW.empty_frame()


class PreviewConfig(dg.Config):
    """The candidate rule file to preview (one version or a history)."""

    candidate: str = ""


@dg.asset(
    group_name=REVIEW_GROUP,
    pool=writer_pool("allocation_preview"),
    partitions_def=daily_partitions,
    backfill_policy=SINGLE_RUN,
    kinds={"delta", "polars"},
    deps=["normalized_costs", "k8s_usage_raw", "allocation_drivers_raw", "allocated_costs"],
)
def allocation_preview(
    context: AssetExecutionContext, config: PreviewConfig, lake: LakeResource, rules: RulesResource
) -> Iterator[DayEvent]:
    """Per day and business unit, booked vs candidate allocation and the delta, before applying.

    allocated_costs is only read: an analyst reviews the impact here, then applies the
    candidate (allocation_rules) with its effective date.
    """
    path = Path(config.candidate) if config.candidate else rules.file()
    candidate = load_rule_history(path.read_text(encoding="utf-8"))
    delta = lake.delta()
    days = DayWriter(context)

    def one_day(day: dt.date) -> None:
        frame = preview_days(delta, candidate, [day])
        moved = frame.filter(pl.col("billed_cost_delta") != 0)
        days.commit(
            day,
            {},
            lambda: delta.write_day(tables.ALLOCATION_PREVIEW, frame, day),
            content=[frame],
            metadata={
                "candidate": str(path),
                "candidate_version": candidate.applicable(day).rules.data_version,
                "units_moved": moved.height,
                "moved": markdown_table(
                    moved.select("x_business_unit", "billed_cost_before", "billed_cost_after")
                    .with_columns(pl.all().cast(pl.Utf8))
                    .to_dicts()
                ),
            },
        )

    yield from days.run(one_day)
