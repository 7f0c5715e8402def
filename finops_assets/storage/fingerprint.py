"""Content fingerprints of written days: the data version of a day-partitioned asset.

A day's fingerprint depends on the rows written (in any order) and on what identifies the logic
that made them (a rule version, say), never on when or by which run they were written: columns
that record a fetch time, a run id or a Delta version are left out. Re-ingesting identical bytes
therefore gives the identical data version, and nothing downstream turns stale.

Nor on which delivery the rows came in: the lineage columns (the delivery's content hash in the
ingestion key, the file name and line, the row keys made of them) are left out too. A restated
billing-period delivery is a new file, so every row's lineage changes; a day whose rows did not
change keeps its data version and nothing downstream of it turns stale (issue 15). The rows are
still rewritten with their new lineage.
"""

import hashlib
from collections.abc import Iterable

import numpy as np
import polars as pl

# Columns that say when or by which run a row was written, not what it holds.
VOLATILE_COLUMNS = frozenset(
    {
        "x_fetched_at",
        "x_run_id",
        "x_delta_version_before",
        "x_delta_version_after",
        "delta_version_before",
        "delta_version_after",
    }
)
# Columns that say which delivery, file and line a row came from, not what it holds.
LINEAGE_COLUMNS = frozenset(
    {
        "x_ingestion_key",
        "x_source_file",
        "x_source_line",
        "x_source_row_key",
        "x_allocation_row_key",
    }
)
IGNORED_COLUMNS = VOLATILE_COLUMNS | LINEAGE_COLUMNS
_SEEDS = ((0, 1, 2, 3), (11, 13, 17, 19))  # two independent 64-bit row hashes


class Fingerprint:
    """An order-independent hash of frames added one at a time (a streamed day, chunk by chunk).

    Each row is hashed twice (two seeds); the sums of the hashes modulo 2**64, the row count and
    the column names and types make the digest. Row order and chunking do not change it.
    """

    def __init__(self, logic: str = "") -> None:
        self._logic = logic
        self._rows = 0
        self._sums = [np.uint64(0), np.uint64(0)]
        self._schemas: set[str] = set()

    def add(self, frame: pl.DataFrame) -> None:
        """Fold one frame (a whole day or a chunk of it) into the fingerprint."""
        columns = sorted(c for c in frame.columns if c not in IGNORED_COLUMNS)
        stable = frame.select(columns)
        self._schemas.add(",".join(f"{c}:{t}" for c, t in stable.schema.items()))
        self._rows += stable.height
        if stable.height and columns:
            for i, seeds in enumerate(_SEEDS):
                hashes = stable.hash_rows(*seeds).to_numpy()
                with np.errstate(over="ignore"):
                    self._sums[i] = np.uint64(self._sums[i] + hashes.sum(dtype=np.uint64))

    def merge(self, other: "Fingerprint") -> None:
        """Fold in another Fingerprint's rows (a part of the same table's day added apart)."""
        self._rows += other._rows
        with np.errstate(over="ignore"):
            self._sums = [np.uint64(a + b) for a, b in zip(self._sums, other._sums, strict=True)]
        self._schemas |= other._schemas

    def hexdigest(self) -> str:
        """The fingerprint: 64 hex characters."""
        text = "|".join(
            [
                self._logic,
                str(self._rows),
                *(str(int(s)) for s in self._sums),
                *sorted(self._schemas),
            ]
        )
        return hashlib.sha256(text.encode()).hexdigest()


def frames_fingerprint(frames: Iterable[pl.DataFrame], logic: str = "") -> str:
    """The fingerprint of the frames (one per table) written for one day, in table order."""
    return fingerprints_version([frame_fingerprint(frame) for frame in frames], logic)


def frame_fingerprint(frame: pl.DataFrame) -> Fingerprint:
    """The Fingerprint of one frame (a whole table's day)."""
    fingerprint = Fingerprint()
    fingerprint.add(frame)
    return fingerprint


def fingerprints_version(fingerprints: Iterable[Fingerprint], logic: str = "") -> str:
    """frames_fingerprint of tables whose days were fingerprinted chunk by chunk (streamed)."""
    parts = [fingerprint.hexdigest() for fingerprint in fingerprints]
    return hashlib.sha256("|".join([logic, *parts]).encode()).hexdigest()


def lineage_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame's lineage columns only (which delivery, file and line each row came from),
    renamed so that Fingerprint does not leave them out: what the data version ignores."""
    columns = sorted(c for c in frame.columns if c in LINEAGE_COLUMNS)
    return frame.select(columns).rename({c: f"lineage_{c}" for c in columns})


def lineages_version(fingerprints: Iterable[Fingerprint]) -> str:
    """The lineage version of tables whose lineage frames were fingerprinted (a streamed day's
    chunk by chunk): equal to lineage_fingerprint of the whole frames."""
    return hashlib.sha256("|".join(f.hexdigest() for f in fingerprints).encode()).hexdigest()


def lineage_fingerprint(frames: Iterable[pl.DataFrame]) -> str:
    """An order-independent hash of the lineage columns only, one part per table: what the
    data version leaves out, for the day memo (day_memo.py)."""
    return lineages_version(frame_fingerprint(lineage_frame(frame)) for frame in frames)
