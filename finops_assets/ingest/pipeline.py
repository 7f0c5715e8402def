"""One day of one source: archive every payload, parse it, split good rows from quarantined ones."""

import csv
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import ModuleType

import polars as pl

from finops_assets.domain.deliveries import (
    IncompleteDeliveryError,
    check_not_cut,
    is_cut_copy,
    unique_by_content,
)
from finops_assets.domain.sources.azure_datasets import with_declared_dataset
from finops_assets.domain.sources.common import (
    MAX_INFLATED_BYTES,
    QUARANTINE_COLUMNS,
    ParseResult,
    SourceFormatError,
    content_hash,
    ingestion_key,
    refused_file_row,
)
from finops_assets.ingest.day_quarantine import other_days, spanning_quarantine, with_day
from finops_assets.resources.payloads import Payload
from finops_assets.security.payload_bounds import PayloadBoundsError, check_payload_bounds
from finops_assets.storage.archive import RawArchive

# Rows of a large file parsed at a time (DayStream; read when a stream starts).
BATCH_ROWS = 100_000


@dataclass(frozen=True)
class IngestedDay:
    """What one day of one source produced.

    `parsed_rows` are the rows the payloads claim for this day before any filter: every row of
    a one-day file, the day's rows of a day-spanning one (check_raw_contract looks at them);
    `refused_files` lists each file that could not be read at all (file, reason, bytes), also
    present as one quarantine row each.
    """

    rows: pl.DataFrame
    quarantine: pl.DataFrame
    archived: list[str]
    payload_names: list[str]
    # {name of a payload skipped as a byte-for-byte copy: the name of the one counted}
    duplicates: dict[str, str] = field(default_factory=dict)
    parsed_rows: pl.DataFrame = field(default_factory=pl.DataFrame)
    refused_files: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class Admitted:
    """A payload checked, archived and parsed once: its archive path, and its rows or why not."""

    archived: str
    parsed: ParseResult | None
    refused: str | None = None


# Payloads admitted in one run, by source, content hash and archive day: a delivery spanning many
# days is checked, archived and parsed once per run, however many of its days the run writes.
ParseCache = dict[tuple[str, str, str], Admitted]


def ingest_payloads(
    source: ModuleType,
    payloads: list[Payload],
    day: dt.date,
    archive: RawArchive,
    cache: ParseCache | None = None,
) -> IngestedDay:
    """Archive then parse each payload of `day`; rows dated another day are quarantined, not lost.

    The same bytes under two names count once. A CSV whose last row was cut, or a file that is
    only a cut copy of what was archived before under its name (unless a manifest vouches for
    it), fails the day with IncompleteDeliveryError naming the file. In a payload that
    `spans_days` (a billing-period file) only the day's rows are kept (bad rows dated outside
    its period or not at all go to the period's first day); other days are their own partitions.
    A file that cannot be read at all is quarantined as one row (file, reason, bytes) and the
    day's other files still ingest; the quarantine check decides whether the day may pass.
    The whole day in memory: DayStream's batches joined (streamed_ingest keeps them bounded).
    """
    stream = DayStream(source, payloads, day, archive, cache)
    kept: list[DayBatch] = []
    for batch in stream.batches():
        if batch.restart:  # the payload turned out unreadable part way: its batches are void
            kept = [b for b in kept if b.payload != batch.payload]
        kept.append(batch)
    columns = dict(source.RAW_COLUMNS)
    return IngestedDay(
        rows=_concat([b.rows for b in kept], columns),
        quarantine=_concat([b.quarantine for b in kept], QUARANTINE_COLUMNS),
        archived=stream.archived,
        payload_names=[p.name for p in stream.payloads],
        duplicates=stream.duplicates,
        parsed_rows=_concat([b.claimed for b in kept], columns),
        refused_files=stream.refused,
    )


@dataclass(frozen=True)
class DayBatch:
    """Part of what payload number `payload` gives the day: its rows of the day, quarantine
    rows and the rows it claims (see IngestedDay). `restart`: the payload's earlier batches are
    void (it turned out unreadable part way); this batch holds its refused-file row."""

    payload: int
    rows: pl.DataFrame
    quarantine: pl.DataFrame
    claimed: pl.DataFrame
    restart: bool = False


class DayStream:
    """One day's payloads as DayBatches: a large file whose source has `parse_batches` (and
    that no other day of the run reads: not a many-day period file) in batches of `batch_rows`
    rows (BATCH_ROWS, read at call time), any other file whole, once per run (the ParseCache).
    `archived`, `refused` fill as the batches are taken."""

    def __init__(
        self,
        source: ModuleType,
        payloads: list[Payload],
        day: dt.date,
        archive: RawArchive,
        cache: ParseCache | None = None,
        batch_rows: int | None = None,
    ) -> None:
        keep, self.duplicates = unique_by_content([(p.name, p.data) for p in payloads])
        self.payloads = [payloads[i] for i in keep]
        self.source, self.day, self.archive = source, day, archive
        self.cache = {} if cache is None else cache
        self.batch_rows = batch_rows or BATCH_ROWS
        self.archived: list[str] = []
        self.refused: list[dict] = []

    def batches(self) -> Iterator[DayBatch]:
        """Every payload's batches, payloads in order, each payload's in its file's order."""
        for number, payload in enumerate(self.payloads):
            period = payload.period or _month_of(self.day)
            home_day = period[0] if payload.spans_days else self.day
            batched = getattr(self.source, "parse_batches", None)
            if batched is not None and (not payload.spans_days or period[0] == period[1]):
                yield from self._streamed(number, payload, home_day, period)
                continue
            admitted = _admit(self.source, payload, home_day, self.archive, self.cache)
            self.archived.append(admitted.archived)
            if admitted.parsed is None:
                yield self._refused(number, payload, admitted.refused)
                continue
            yield self._batch(number, payload, admitted.parsed, period)

    def _streamed(
        self, number: int, payload: Payload, home_day: dt.date, period: tuple[dt.date, dt.date]
    ) -> Iterator[DayBatch]:
        path, key, unreadable = _archived(self.source, payload, home_day, self.archive)
        self.archived.append(path)
        started = False
        try:
            if unreadable:
                raise SourceFormatError(unreadable)
            for parsed in self.source.parse_batches(
                payload.data,
                source_file=payload.name,
                ingestion_key=key,
                fetched_at=payload.fetched_at,
                batch_rows=self.batch_rows,
            ):
                rows = with_declared_dataset(parsed.rows, payload.dataset)
                yield self._batch(number, payload, ParseResult(rows, parsed.quarantine), period)
                started = True
        except SourceFormatError as error:
            yield self._refused(number, payload, str(error), restart=started)

    def _batch(
        self, number: int, payload: Payload, parsed: ParseResult, period: tuple[dt.date, dt.date]
    ) -> DayBatch:
        day = self.day
        in_day = parsed.rows.filter(pl.col("x_charge_date") == day)
        if payload.spans_days:  # a period file: other days' rows belong to their own partitions
            quarantine = spanning_quarantine(parsed.quarantine, day, period)
            return DayBatch(number, in_day, quarantine, in_day)
        quarantine = pl.concat(
            [with_day(parsed.quarantine, day), other_days(self.source, parsed.rows, day)]
        )
        return DayBatch(number, in_day, quarantine, parsed.rows)

    def _refused(
        self, number: int, payload: Payload, reason: str | None, restart: bool = False
    ) -> DayBatch:
        reason = reason or f"{payload.name}: not readable"
        self.refused.append({"file": payload.name, "reason": reason, "bytes": len(payload.data)})
        empty = pl.DataFrame(schema=dict(self.source.RAW_COLUMNS))
        row = _refused(self.source, payload, self.day, reason)
        return DayBatch(number, empty, row, empty, restart)


def _unreadable_csv(payload: Payload) -> str | None:
    """Why a payload is not readable at all (a decompression bomb, binary garbage), else None.

    A CSV cut in its last row still raises IncompleteDeliveryError: that fails the day.
    """
    try:  # first, in constant memory: a bomb is never inflated by what follows
        check_payload_bounds(payload.data, payload.name, MAX_INFLATED_BYTES)
    except PayloadBoundsError as error:
        return str(error)
    try:
        check_not_cut(payload.data, payload.name)
    except csv.Error as error:
        return f"{payload.name}: not a readable CSV ({error})"
    return None


def _concat(frames: list[pl.DataFrame], schema: dict) -> pl.DataFrame:
    return pl.concat(frames, how="vertical") if frames else pl.DataFrame(schema=schema)


def _refused(source: ModuleType, payload: Payload, day: dt.date, reason: str) -> pl.DataFrame:
    key = payload.ingestion_key or ingestion_key(source.PROVIDER, source.SOURCE, day, payload.data)
    return refused_file_row(
        day=day, source=source.SOURCE, name=payload.name, data=payload.data, key=key, reason=reason
    )


def _admit(
    source: ModuleType, payload: Payload, home_day: dt.date, archive: RawArchive, cache: ParseCache
) -> Admitted:
    """Check (cut last row, cut copy of the archived file), archive and parse, once per run."""
    cache_key = (source.SOURCE, content_hash(payload.data), home_day.isoformat())
    cached = cache.get(cache_key)
    if cached is not None:
        return cached
    path, key, unreadable = _archived(source, payload, home_day, archive)
    try:
        if unreadable:
            raise SourceFormatError(unreadable)
        parsed = source.parse(
            payload.data, source_file=payload.name, ingestion_key=key, fetched_at=payload.fetched_at
        )
        rows = with_declared_dataset(parsed.rows, payload.dataset)
        admitted = Admitted(path, ParseResult(rows, parsed.quarantine))
    except SourceFormatError as error:
        admitted = Admitted(path, None, str(error))
    if payload.spans_days:  # only a period file recurs on other days; a day file is not kept
        cache[cache_key] = admitted
    return admitted


def _archived(
    source: ModuleType, payload: Payload, home_day: dt.date, archive: RawArchive
) -> tuple[str, str, str | None]:
    """Check (cut last row, cut copy of the archived file) and archive a payload: its archive
    path, its ingestion key, and why it cannot be read at all (None when it may be)."""
    unreadable = _unreadable_csv(payload)
    if not payload.vouched:
        _refuse_cut_copy(archive, source.SOURCE, home_day, payload)
    path = archive.store(source.SOURCE, home_day, payload.name, payload.data)
    key = payload.ingestion_key or ingestion_key(
        source.PROVIDER, source.SOURCE, home_day, payload.data
    )
    return path, key, unreadable


def _month_of(day: dt.date) -> tuple[dt.date, dt.date]:
    first = day.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return first, following - dt.timedelta(days=1)


def _refuse_cut_copy(archive: RawArchive, source: str, day: dt.date, payload: Payload) -> None:
    """A shorter file never silently replaces a complete one under the same name."""
    for path in archive.versions(source, day, payload.name):
        if is_cut_copy(payload.data, archive.read(path), payload.name):
            raise IncompleteDeliveryError(
                f"{payload.name}: its content is a cut copy (a strict prefix) of the version "
                f"archived at {path}; refused so a shorter file does not replace a complete "
                "one. Deliver the whole file, or a manifest that lists it."
            )
