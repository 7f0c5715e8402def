"""One day of focus_cost_allocation computed in slices of origin charges (bounded working memory).

An origin charge's split rows and its contract verdicts depend only on that charge and its parts,
and the split rows come out sorted by origin key. So the day is cut into ranges of origin keys,
each range split and checked on its own, and the slices concatenated in key order: the same rows
in the same order as focus_split_rows on the whole day, and the same contract failures (row
indexes counted over the whole day). Only one slice's joins, splits and pandera frames are alive
at a time, not the whole day's.
"""

from collections.abc import Iterator

import polars as pl

from finops_assets.domain.focus_allocation import focus_split_rows, raise_on_orphans
from finops_assets.domain.focus_allocation_contract import SPLIT_SCHEMA, split_contract_failures

SLICE_PARTS = 100_000  # allocated parts per slice
_KEY = "x_source_row_key"
_CHECK_ORDER = {check.name: i for i, check in enumerate(SPLIT_SCHEMA.checks)}


def key_ranges(keys: pl.Series, slice_parts: int) -> list[tuple[str, str | None]]:
    """[low, high) ranges of origin keys holding about `slice_parts` parts each, in key order."""
    ordered = keys.drop_nulls().sort()
    lows = ordered.gather(list(range(0, ordered.len(), max(slice_parts, 1)))).unique(
        maintain_order=True
    )
    bounds = lows.to_list()
    if not bounds:
        return []
    return list(zip(bounds, [*bounds[1:], None], strict=True))


def _in_range(low: str, high: str | None) -> pl.Expr:
    key = pl.col(_KEY)
    return (key >= low) if high is None else (key >= low) & (key < high)


def split_slices(
    normalized: pl.DataFrame, allocated: pl.DataFrame, slice_parts: int = SLICE_PARTS
) -> Iterator[tuple[pl.DataFrame, list[dict]]]:
    """The day's FOCUS 1.3 split rows slice by slice, each with its 1.3 contract failures.

    The slices, concatenated, are focus_split_rows(normalized, allocated) in its order; the
    failures' row indexes count over the whole day. Only one slice is alive at a time if the
    caller lets the previous one go. Raises AllocationOriginError as focus_split_rows does, for
    the whole day, before the first slice. An empty day gives one empty slice (its columns).
    """
    raise_on_orphans(
        allocated.select(_KEY).join(
            normalized.select(_KEY, "ChargeCategory"), on=_KEY, how="left", maintain_order="left"
        )
    )
    ranges = key_ranges(allocated[_KEY], slice_parts)
    if not ranges:
        yield focus_split_rows(normalized, allocated), []
        return
    offset = 0
    for low, high in ranges:
        origins = normalized.filter(_in_range(low, high))
        split = focus_split_rows(origins, allocated.filter(_in_range(low, high)))
        failures = [
            {**f, "index": f["index"] + offset if f["index"] is not None else None}
            for f in split_contract_failures(split, origins)
        ]
        del origins
        offset += split.height
        yield split, failures
        del split, failures  # let the caller's slice go before the next is made


def in_check_order(failures: list[dict]) -> list[dict]:
    """Failures gathered slice by slice, in the contract's check order (a stable sort)."""
    return sorted(failures, key=lambda f: _CHECK_ORDER.get(f["check"], -1))


def split_day(
    normalized: pl.DataFrame, allocated: pl.DataFrame, slice_parts: int = SLICE_PARTS
) -> tuple[pl.DataFrame, list[dict]]:
    """The day's FOCUS 1.3 split rows and the 1.3 contract's failures, whole (split_slices
    concatenated): equal to (focus_split_rows(normalized, allocated),
    split_contract_failures(...)) on the whole day; failures in the contract's check order."""
    slices: list[pl.DataFrame] = []
    failures: list[dict] = []
    for split, found in split_slices(normalized, allocated, slice_parts):
        slices.append(split)
        failures.extend(found)
    return pl.concat(slices), in_check_order(failures)
