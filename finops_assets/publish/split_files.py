"""focus_cost_allocation's day staged slice by slice: its files, data version and failures.

The day's split rows are made and checked in slices of origin charges
(domain/focus_allocation_day.py); each slice is appended to the day's temporary Parquet files,
folded into the data version and let go, so the day's split rows are never whole in memory.
The files are published only when the caller's checks pass (StagedDayFiles).
"""

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

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
class StagedSplitDay:
    """A staged day: its files (to publish or discard), the contract's failures (whole-day row
    indexes, check order), its row count, and the data and lineage versions that
    frames_fingerprint and lineage_fingerprint give on the whole day's split rows."""

    files: StagedDayFiles
    failures: list[dict]
    rows: int
    data_version: str
    lineage: str


def stage_split_day(
    origins: pl.DataFrame,
    parts: pl.DataFrame,
    root: Path,
    day: dt.date,
    slice_parts: int | None = None,
    logic: str = "",
) -> StagedSplitDay:
    """Split, check and stage `day` slice by slice (see the module doc). Once a slice fails the
    contract nothing more is staged: the day will not be written. `logic` is the writer's logic
    version (part of the data version, as DayWriter.commit folds it into frames it hashes).
    `slice_parts`: allocated parts per slice, focus_allocation_day.SLICE_PARTS when None."""
    slice_parts = slice_parts or focus_allocation_day.SLICE_PARTS
    files = StagedDayFiles(root, day)
    content, lineage = Fingerprint(), Fingerprint()
    failures: list[dict] = []
    rows = 0
    try:
        for split, found in split_slices(origins, parts, slice_parts):
            failures.extend(found)
            if not failures:
                files.add(split)
            content.add(split)
            lineage.add(lineage_frame(split))
            rows += split.height
            del split
    except BaseException:
        files.discard()
        raise
    return StagedSplitDay(
        files,
        in_check_order(failures),
        rows,
        fingerprints_version([content], logic),
        lineages_version([lineage]),
    )
