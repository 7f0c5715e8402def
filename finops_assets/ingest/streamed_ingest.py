"""One raw day of one source in bounded memory: DayStream's batches folded as they come.

The day's rows are never held whole: each batch is checked against the raw contract (a failure
keeps the day's row index, and names file and line), its money summed and its rows
fingerprinted; its rows are kept in memory while the day holds at most `memory_rows` rows, on
disk (a SpillFolder) past that, and the write streams them into one Delta commit. The
quarantine (bad rows) is kept whole. A payload that turns out unreadable part way loses its
batches and is refused whole, as when it is parsed whole. Sums of batch sums and the
order-independent fingerprint give exactly the whole day's figures and data version
(`pipeline.ingest_payloads` joins the same batches whole; the tests compare the two).
"""

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import ModuleType

import polars as pl

from finops_assets.domain.money import MONEY
from finops_assets.domain.sources.common import QUARANTINE_COLUMNS
from finops_assets.ingest.checks import raw_contract_result, raw_kept_money
from finops_assets.ingest.pipeline import DayBatch, DayStream
from finops_assets.storage.contract import TableContract
from finops_assets.storage.delta import DeltaLake
from finops_assets.storage.fingerprint import Fingerprint, fingerprints_version, frame_fingerprint
from finops_assets.storage.spill import SpillFolder
from finops_assets.storage.validation import ValidationOutcome

SHOWN_FAILURES = 20  # as validate_frame shows


@dataclass
class _Part:
    """What one payload's batches (or the whole day's) add to the day."""

    held: list[Callable[[], pl.DataFrame]] = field(default_factory=list)
    rows: int = 0
    fingerprint: Fingerprint = field(default_factory=Fingerprint)
    kept: list[pl.DataFrame] = field(default_factory=list)
    billed: list[pl.DataFrame] = field(default_factory=list)
    quarantine: list[pl.DataFrame] = field(default_factory=list)
    claimed: int = 0
    failure_count: int = 0
    failures: list[list[dict]] = field(default_factory=list)  # per failing batch

    def merge(self, other: "_Part") -> None:
        self.held += other.held
        self.rows += other.rows
        self.fingerprint.merge(other.fingerprint)
        self.kept += other.kept
        self.billed += other.billed
        self.quarantine += other.quarantine
        self.claimed += other.claimed
        self.failure_count += other.failure_count
        self.failures += other.failures


class StreamedRawDay:
    """A source-day folded batch by batch (see the module doc); close it (a context manager)."""

    def __init__(
        self, source: ModuleType, contract: TableContract, stream: DayStream, memory_rows: int
    ) -> None:
        self.source, self.contract, self.stream = source, contract, stream
        self.day: dt.date = stream.day
        self._memory_rows = memory_rows
        self._in_memory = 0
        self._spill: SpillFolder | None = None
        self._day = _Part()
        try:
            self._fold()
        except BaseException:
            self.close()
            raise
        self.quarantine = _joined(self._day.quarantine, QUARANTINE_COLUMNS)

    def _fold(self) -> None:
        part, number = _Part(), None
        for batch in self.stream.batches():
            if batch.payload != number:
                self._day.merge(part)
                part, number = _Part(), batch.payload
            if batch.restart:  # the payload turned out unreadable: its batches are void
                part = _Part()
            self._add(part, batch)
        self._day.merge(part)
        if not self._day.held:  # no payload: the day's empty frames, as when joined whole
            empty = pl.DataFrame(schema=dict(self.source.RAW_COLUMNS))
            self._add(
                self._day, DayBatch(-1, empty, pl.DataFrame(schema=QUARANTINE_COLUMNS), empty)
            )

    def _add(self, part: _Part, batch: DayBatch) -> None:
        first = self._day.claimed + part.claimed
        outcome = raw_contract_result(self.contract, batch.claimed, self.day, first)
        part.claimed += batch.claimed.height
        if not outcome.passed:
            part.failure_count += outcome.failure_count
            part.failures.append(outcome.failures)
        rows = batch.rows
        part.rows += rows.height
        part.fingerprint.add(rows)
        part.kept.append(raw_kept_money(self.source, rows))
        part.billed.append(self.source.billed_totals(rows))
        part.quarantine.append(batch.quarantine)
        part.held.append(self._hold(rows))

    def _hold(self, rows: pl.DataFrame) -> Callable[[], pl.DataFrame]:
        self._in_memory += rows.height
        if self._spill is None and self._in_memory <= self._memory_rows:
            return lambda: rows
        if self._spill is None:
            self._spill = SpillFolder()
        return self._spill.hold(rows)

    @property
    def streamed(self) -> bool:
        """True when rows went to disk: the day is written as a stream of its batches."""
        return self._spill is not None

    @property
    def row_count(self) -> int:
        return self._day.rows

    def rows(self) -> Iterator[pl.DataFrame]:
        """The day's rows, batch by batch."""
        for take in self._day.held:
            yield take()

    def write(self, delta: DeltaLake) -> None:
        """The day's rows into the raw table, one commit (streamed when they went to disk)."""
        if self.streamed:
            delta.write_day_stream(self.contract, self.rows(), self.day)
            return
        frames = list(self.rows())
        whole = pl.concat(frames) if frames else pl.DataFrame(schema=dict(self.source.RAW_COLUMNS))
        delta.write_day(self.contract, whole, self.day)

    def data_version(self, logic: str = "") -> str:
        """frames_fingerprint([rows, quarantine], logic) of the whole day, from the batches."""
        return fingerprints_version(
            [self._day.fingerprint, frame_fingerprint(self.quarantine)], logic
        )

    def contract_result(self) -> ValidationOutcome:
        """check_raw_contract of the rows the day's files claimed, as raw_contract_result of
        them joined whole: the failure count, and the first failures in the day's row order."""
        count, batches = self._day.failure_count, self._day.failures
        if not batches:
            return ValidationOutcome(True, 0, [])
        if len(batches) == 1:
            return ValidationOutcome(False, count, batches[0])
        cases = [f for failures in batches for f in failures]
        rank: dict[tuple, int] = {}
        for case in cases:
            rank.setdefault((case.get("column"), case.get("check")), len(rank))
        cases.sort(key=lambda f: (rank[(f.get("column"), f.get("check"))], _index(f)))
        return ValidationOutcome(False, count, cases[:SHOWN_FAILURES])

    def kept_money(self) -> pl.DataFrame:
        """raw_kept_money of the day's rows: the sums of its batches'."""
        if len(self._day.kept) == 1:
            return self._day.kept[0]
        kept = pl.concat(self._day.kept, how="vertical")
        return (
            kept.group_by("currency", "money_column", maintain_order=True)
            .agg(pl.col("amount").sum().cast(MONEY))
            .select("currency", "money_column", "amount")
        )

    def billed(self) -> pl.DataFrame:
        """source.billed_totals of the day's rows: the sums of its batches'."""
        if len(self._day.billed) == 1:
            return self._day.billed[0]
        billed = pl.concat(self._day.billed, how="vertical")
        return (
            billed.group_by("currency", maintain_order=True)
            .agg(pl.col("amount").sum().cast(MONEY))
            .sort("currency")
        )

    def close(self) -> None:
        if self._spill is not None:
            self._spill.close()

    def __enter__(self) -> "StreamedRawDay":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _index(case: dict) -> int:
    index = case.get("index")
    return int(index) if index is not None and str(index).isdigit() else -1


def _joined(frames: list[pl.DataFrame], schema: dict) -> pl.DataFrame:
    return pl.concat(frames, how="vertical") if frames else pl.DataFrame(schema=schema)
