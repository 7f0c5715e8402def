"""(a) at any size: the day in chunks of rows, so memory stays bounded at 10M rows a day.

Pass 1 normalizes each chunk (to_focus, normalize_costs), keeps it on disk (Arrow IPC, lz4), as the
normalized_costs table would, and sums the row drivers' measures of the whole day
(allocate.driver_measures). Pass 2 allocates each chunk with the day's measures
(allocate_costs(measures=...)), which gives exactly what allocating the whole day at once
gives. A day that fits one chunk runs in memory in one go.
"""

import tempfile
from pathlib import Path

import polars as pl

from bench import ours
from bench.reference import DATA_DIR, Reference, totals_text, unit_sums
from finops_assets.domain.allocate import allocate_costs, driver_measures
from finops_assets.domain.allocate_drivers import sum_measures

SINGLE_PASS_ROWS = 1_100_000  # a 1M-row day (1.04M rows) runs in one go
CHUNK_ROWS = 500_000  # larger days: chunks of about this many rows (~2 GB peak each)


def normalize_and_allocate(
    path: Path,
    reference: Reference,
    chunk_rows: int = CHUNK_ROWS,
    single_pass_rows: int = SINGLE_PASS_ROWS,
) -> dict[str, list[str]]:
    """Totals per business unit of the day's allocated rows (see reference.totals_text)."""
    rows = pl.scan_parquet(path).select(pl.len()).collect().item()
    if rows <= max(single_pass_rows, chunk_rows):
        return totals_text(ours.normalize_and_allocate(path, reference))
    count = -(-rows // chunk_rows)
    chunk_rows = -(-rows // count)  # even chunks
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=DATA_DIR, prefix=".chunks-") as scratch:
        files, measures = [], []
        for index, offset in enumerate(range(0, rows, chunk_rows)):
            normalized = ours.normalize_rows(path, reference, offset, chunk_rows)
            measures.append(driver_measures(normalized, reference.rules))
            files.append(Path(scratch) / f"normalized-{index:04d}.arrow")
            normalized.write_ipc(files[-1], compression="lz4")
            del normalized
        day_measures = sum_measures(measures)
        sums = [
            unit_sums(
                allocate_costs(
                    pl.read_ipc(f, memory_map=False), reference.rules, measures=day_measures
                )
            )
            for f in files
        ]
    return totals_text(pl.concat(sums))
