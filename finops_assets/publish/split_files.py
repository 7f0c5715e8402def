"""A day's datasets staged slice by slice: their files, data version and failures.

A day is made and checked in slices (focus_cost_allocation: domain/focus_allocation_day.py;
focus_export: domain/focus_export_day.py); each slice is appended to the day's temporary
Parquet files, folded into the data and lineage versions and let go, so the day's rows are never
whole in memory. The files are published only when the caller's checks pass (StagedSlices).
"""

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from finops_assets.domain import focus_allocation_day
from finops_assets.domain.focus_allocation_day import in_check_order, split_slices
from finops_assets.publish.files import StagedDayFiles
from finops_assets.storage.fingerprint import (
    Fingerprint,
    fingerprints_version,
    lineage_frame,
    lineages_version,
)


@dataclass
class StagedSlices:
    """A day's staged files, one StagedDayFiles per dataset: published or discarded together."""

    datasets: list[StagedDayFiles]

    def publish(self) -> list[Path]:
        """Replace the day's files of every dataset with the staged ones."""
        return [path for files in self.datasets for path in files.publish()]

    def discard(self) -> None:
        """Drop what was staged; the day's published files stay as they were."""
        for files in self.datasets:
            files.discard()


@dataclass
class StagedDay:
    """A staged day: its files (to publish or discard), the checks' failures, its row count,
    and the data and lineage versions that frames_fingerprint and lineage_fingerprint give on
    the whole day's frames (one per dataset, in the datasets' order)."""

    files: StagedSlices
    failures: Any
    rows: int
    data_version: str
    lineage: str


def stage_slices(
    slices: Iterable[tuple[Sequence[pl.DataFrame], bool]],
    roots: Sequence[Path],
    day: dt.date,
    logic: str = "",
) -> StagedDay:
    """Stage `day` from `slices`: each is (one frame per dataset, in `roots`' order; whether the
    slice failed a blocking check). Once a slice failed nothing more is staged (the day will not
    be written), but every slice is still folded into the versions. The row count is the first
    dataset's. `logic`: the writer's logic version, folded into the data version as
    DayWriter.commit folds it into frames it hashes. `failures` is left to the caller (None)."""
    files = StagedSlices([StagedDayFiles(root, day) for root in roots])
    content = [Fingerprint() for _ in roots]
    lineage = [Fingerprint() for _ in roots]
    failed, rows = False, 0
    try:
        for frames, slice_failed in slices:
            failed = failed or slice_failed
            for i, frame in enumerate(frames):
                if not failed:
                    files.datasets[i].add(frame)
                content[i].add(frame)
                lineage[i].add(lineage_frame(frame))
            rows += frames[0].height
            del frames
    except BaseException:
        files.discard()
        raise
    return StagedDay(
        files, None, rows, fingerprints_version(content, logic), lineages_version(lineage)
    )


def stage_split_day(
    origins: pl.DataFrame,
    parts: pl.DataFrame,
    root: Path,
    day: dt.date,
    slice_parts: int | None = None,
    logic: str = "",
) -> StagedDay:
    """focus_cost_allocation's day: split, checked and staged slice by slice (stage_slices);
    failures: the 1.3 split contract's, whole-day row indexes, in check order.
    `slice_parts`: allocated parts per slice, focus_allocation_day.SLICE_PARTS when None."""
    failures: list[dict] = []

    def slices() -> Iterable[tuple[Sequence[pl.DataFrame], bool]]:
        for split, found in split_slices(
            origins, parts, slice_parts or focus_allocation_day.SLICE_PARTS
        ):
            failures.extend(found)
            yield (split,), bool(found)
            del split

    staged = stage_slices(slices(), [root], day, logic)
    staged.failures = in_check_order(failures)
    return staged
