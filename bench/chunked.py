"""(a) at any size: the day in chunks of rows, so memory stays bounded at 10M rows a day.

Each chunk of the Parquet day is normalized (to_focus, normalize_costs) in a background thread,
one chunk ahead (storage.producer; Polars releases the GIL, so both cores work), and handed to
allocate.allocate_chunks, which allocates the chunk's tag, hierarchy and unallocated rows at
once and spills its pooled rows (storage.spill) until the whole day's driver measures are
known; the result equals allocating the whole day at once. A day that fits one chunk runs
through allocate_costs in one go.
"""

from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path

import polars as pl

from bench import ours
from bench.reference import DATA_DIR, Reference, totals_text, unit_sums
from finops_assets.domain.allocate import allocate_chunks
from finops_assets.storage.producer import ThreadedIterator
from finops_assets.storage.spill import SpillFolder

# Days over this many rows run in even chunks of at most this many rows. Measured on this
# machine: the 1M-row day in one go 6.2 to 7.0 s at 3.4 GB; in overlapped chunks of 400k 5.6 s
# at 1.9 GB, of 250k 5.2 to 5.3 s at 1.3 GB. The 10M-row day: 200k, 250k, 400k chunks all within
# run-to-run noise (50 to 54 s), peaks 1.6, 1.7, 2.4 GB.
CHUNK_ROWS = 250_000


def normalized_chunks(path: Path, reference: Reference, rows: int, chunk_rows: int) -> Iterator:
    """The day's rows normalized chunk by chunk (even chunks of at most `chunk_rows`)."""
    count = -(-rows // chunk_rows)
    size = -(-rows // count)
    for offset in range(0, rows, size):
        yield ours.normalize_rows(path, reference, offset, size)


def normalize_and_allocate(
    path: Path,
    reference: Reference,
    chunk_rows: int = CHUNK_ROWS,
    overlap: bool = True,
) -> dict[str, list[str]]:
    """Totals per business unit of the day's allocated rows (see reference.totals_text)."""
    rows = pl.scan_parquet(path).select(pl.len()).collect().item()
    if rows <= chunk_rows:
        return totals_text(ours.normalize_and_allocate(path, reference))
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    normalized = normalized_chunks(path, reference, rows, chunk_rows)
    with (
        SpillFolder(DATA_DIR) as spill,
        ThreadedIterator(normalized) if overlap else nullcontext(normalized) as chunks,
    ):
        parts = allocate_chunks(chunks, reference.rules, hold=spill.hold)
        sums = [unit_sums(part) for part in parts]
    return totals_text(pl.concat(sums))
