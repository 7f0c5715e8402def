"""focus_export's day staged slice by slice: both FOCUS datasets' files, versions and failures.

The day's FOCUS 1.2 and 1.3 rows are made and checked in slices of normalized rows
(domain/focus_export_day.py) and staged with split_files.stage_slices, so neither dataset is
ever whole in memory. The files are published only when the 1.3 contract held on every slice.
"""

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path

import polars as pl

from finops_assets.domain.focus_export_day import ContractCases, export_slices
from finops_assets.publish.split_files import StagedDay, stage_slices
from finops_assets.storage.validation import ValidationOutcome


def stage_export_day(
    normalized: pl.DataFrame,
    roots: Sequence[Path],
    day: dt.date,
    slice_rows: int | None = None,
    logic: str = "",
) -> StagedDay:
    """Make, check and stage `day`'s FOCUS 1.2 and 1.3 datasets (`roots`: their folders, in
    that order) slice by slice. `failures`: the ValidationOutcome validate_frame gives the whole
    day's 1.3 rows. `slice_rows`: normalized rows per slice, focus_export_day.SLICE_ROWS when
    None. `logic`: the writer's logic version (part of the data version)."""
    cases = ContractCases()

    def slices() -> Iterable[tuple[Sequence[pl.DataFrame], bool]]:
        for v12, v13, found in export_slices(normalized, slice_rows):
            cases.add(found)
            yield (v12, v13), not found.is_empty()
            del v12, v13, found

    staged = stage_slices(slices(), roots, day, logic)
    count, shown = cases.outcome()
    staged.failures = ValidationOutcome(count == 0, count, shown)
    return staged
