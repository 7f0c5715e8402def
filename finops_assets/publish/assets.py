"""Publish assets: FOCUS datasets for FOCUS readers, Parquet by billing period.

focus_cost_allocation: the allocation as a FOCUS 1.3 split cost allocation dataset.
focus_export: normalized_costs as a FOCUS 1.2 and a FOCUS 1.3 dataset.
"""

import datetime as dt
from collections.abc import Iterator

import dagster as dg
from dagster import AssetExecutionContext

from finops_assets.concurrency import writer_pool
from finops_assets.day_writer import DayEvent, DayWriter
from finops_assets.domain.focus_allocation import ORIGIN_FOCUS_COLUMNS, PART_COLUMNS
from finops_assets.domain.focus_export_day import EXPORT_READ
from finops_assets.partitions import SINGLE_RUN, daily_partitions
from finops_assets.publish.export_files import stage_export_day
from finops_assets.publish.files import day_files_state
from finops_assets.publish.split_files import StagedDay, stage_split_day
from finops_assets.resources.lake import LakeResource
from finops_assets.settings import Settings
from finops_assets.storage import tables

FOCUS_ALLOCATION_FOLDER = ("focus", "cost_allocation")
_ORIGIN_READ = ("x_source_row_key", *ORIGIN_FOCUS_COLUMNS)
_READS = (tables.NORMALIZED_COSTS, tables.ALLOCATED_COSTS)


def _commit_staged(
    writer: DayWriter, day: dt.date, check: str, staged: StagedDay, **metadata: str
) -> None:
    """Commit a day staged slice by slice: its files published when `check` passed on every
    slice; staged files never left behind (a failed day, a failed write)."""
    try:
        writer.commit(
            day,
            {check: staged.failures},
            staged.files.publish,
            content=staged.data_version,
            metadata={"rows": staged.rows, **metadata},
            lineage=staged.lineage,
        )
    finally:
        staged.files.discard()


def focus_allocation_root(settings: Settings):
    """Where the dataset lives: <FINOPS_HOME>/focus/cost_allocation."""
    return settings.home.joinpath(*FOCUS_ALLOCATION_FOLDER)


@dg.asset(
    group_name="publish",
    pool=writer_pool("focus_cost_allocation"),
    partitions_def=daily_partitions,
    backfill_policy=SINGLE_RUN,
    kinds={"parquet", "polars"},
    deps=["allocated_costs", "normalized_costs"],
    check_specs=[
        dg.AssetCheckSpec(
            "check_focus_1_3_split_contract",
            asset="focus_cost_allocation",
            blocking=True,
            partitions_def=daily_partitions,
            description="FOCUS 1.3 split cost allocation: summable metrics sum to the origin "
            "charge exactly, other columns equal the origin's, ratios sum to 1 per origin, no "
            "resource on the unallocated remainder, AllocatedTags never repeat a key of Tags.",
        )
    ],
)
def focus_cost_allocation(context: AssetExecutionContext, lake: LakeResource) -> Iterator[DayEvent]:
    """Allocated costs as FOCUS 1.3 split rows, Parquet by billing period (README)."""
    delta, root = lake.delta(), focus_allocation_root(Settings.from_env())
    # a day reads that day's normalized and allocated rows only: memoized (day_memo.py)
    writer = DayWriter(
        context,
        memo=True,
        memo_stored=lambda day: delta.day_files(_READS, day),
        memo_output=lambda day: day_files_state([root], day),
    )

    def one_day(day: dt.date) -> None:
        # only the columns a split row is made of; the split rows in slices of origin charges,
        # each staged to the day's files and let go (never the whole day's split rows at once)
        origins = delta.read_day_columns(tables.NORMALIZED_COSTS, day, _ORIGIN_READ)
        parts = delta.read_day_columns(tables.ALLOCATED_COSTS, day, PART_COLUMNS)
        staged = stage_split_day(origins, parts, root, day)
        del origins, parts
        _commit_staged(writer, day, "check_focus_1_3_split_contract", staged, folder=str(root))

    yield from writer.run(one_day)


def focus_export_root(settings: Settings, version: str):
    """Where a FOCUS version of normalized_costs lives: <FINOPS_HOME>/focus/<version>."""
    return settings.home / "focus" / version


@dg.asset(
    group_name="publish",
    pool=writer_pool("focus_export"),
    partitions_def=daily_partitions,
    backfill_policy=SINGLE_RUN,
    kinds={"parquet", "polars"},
    deps=["normalized_costs"],
    check_specs=[
        dg.AssetCheckSpec(
            "check_focus_1_3_contract",
            asset="focus_export",
            blocking=True,
            partitions_def=daily_partitions,
            description="The FOCUS 1.3 dataset's columns, types, required values and allowed "
            "values (pandera; the 1.2 dataset is checked by the focus-validator in the tests).",
        )
    ],
)
def focus_export(context: AssetExecutionContext, lake: LakeResource) -> Iterator[DayEvent]:
    """normalized_costs as FOCUS 1.2 and FOCUS 1.3 Parquet datasets by billing period."""
    delta, settings = lake.delta(), Settings.from_env()
    roots = {v: focus_export_root(settings, v) for v in ("1.2", "1.3")}
    # a day reads that day's normalized rows only: memoized (day_memo.py)
    writer = DayWriter(
        context,
        memo=True,
        memo_stored=lambda day: delta.day_files([tables.NORMALIZED_COSTS], day),
        memo_output=lambda day: day_files_state(list(roots.values()), day),
    )

    def one_day(day: dt.date) -> None:
        # the columns the datasets are made of; both datasets made, checked and staged in
        # slices of rows (never either dataset's whole day at once), published when all passed
        normalized = delta.read_day_columns(tables.NORMALIZED_COSTS, day, EXPORT_READ)
        staged = stage_export_day(normalized, [roots["1.2"], roots["1.3"]], day)
        del normalized
        folders = ", ".join(str(r) for r in roots.values())
        _commit_staged(writer, day, "check_focus_1_3_contract", staged, folders=folders)

    yield from writer.run(one_day)
