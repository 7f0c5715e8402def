"""One day of one source: archive every payload, parse it, split good rows from quarantined ones."""

import csv
import datetime as dt
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
from finops_assets.resources.payloads import Payload
from finops_assets.security.payload_bounds import PayloadBoundsError, check_payload_bounds
from finops_assets.storage.archive import RawArchive


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
    """
    keep, duplicates = unique_by_content([(p.name, p.data) for p in payloads])
    payloads = [payloads[i] for i in keep]
    archived, frames, quarantines, claimed = [], [], [], []
    refused: list[dict] = []
    cache = {} if cache is None else cache
    for payload in payloads:
        period = payload.period or _month_of(day)
        home_day = period[0] if payload.spans_days else day
        admitted = _admit(source, payload, home_day, archive, cache)
        archived.append(admitted.archived)
        parsed = admitted.parsed
        if parsed is None:
            reason = admitted.refused or f"{payload.name}: not readable"
            refused.append({"file": payload.name, "reason": reason, "bytes": len(payload.data)})
            quarantines.append(_refused(source, payload, day, reason))
            continue
        in_day = parsed.rows.filter(pl.col("x_charge_date") == day)
        frames.append(in_day)
        claimed.append(in_day if payload.spans_days else parsed.rows)
        if payload.spans_days:  # a period file: other days' rows belong to their own partitions
            quarantines.append(_spanning_quarantine(parsed.quarantine, day, period))
            continue
        quarantines.append(_with_day(parsed.quarantine, day))
        quarantines.append(_other_days(source, parsed.rows, day))
    columns = dict(source.RAW_COLUMNS)
    return IngestedDay(
        rows=_concat(frames, columns),
        quarantine=_concat(quarantines, QUARANTINE_COLUMNS),
        archived=archived,
        payload_names=[p.name for p in payloads],
        duplicates=duplicates,
        parsed_rows=_concat(claimed, columns),
        refused_files=refused,
    )


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
    unreadable = _unreadable_csv(payload)
    if not payload.vouched:
        _refuse_cut_copy(archive, source.SOURCE, home_day, payload)
    path = archive.store(source.SOURCE, home_day, payload.name, payload.data)
    key = payload.ingestion_key or ingestion_key(
        source.PROVIDER, source.SOURCE, home_day, payload.data
    )
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


def _month_of(day: dt.date) -> tuple[dt.date, dt.date]:
    first = day.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return first, following - dt.timedelta(days=1)


def _spanning_quarantine(
    quarantine: pl.DataFrame, day: dt.date, period: tuple[dt.date, dt.date]
) -> pl.DataFrame:
    """A period file's bad rows of `day`; on the period's first day also those dated outside
    the period or not at all, so each bad row is filed exactly once."""
    dated_inside = pl.col("x_charge_date").is_between(*period).fill_null(False)
    own = pl.col("x_charge_date") == day
    keep = (own & dated_inside) | (~dated_inside if day == period[0] else pl.lit(False))
    return _with_day(quarantine.filter(keep), day)


def _refuse_cut_copy(archive: RawArchive, source: str, day: dt.date, payload: Payload) -> None:
    """A shorter file never silently replaces a complete one under the same name."""
    for path in archive.versions(source, day, payload.name):
        if is_cut_copy(payload.data, archive.read(path), payload.name):
            raise IncompleteDeliveryError(
                f"{payload.name}: its content is a cut copy (a strict prefix) of the version "
                f"archived at {path}; refused so a shorter file does not replace a complete "
                "one. Deliver the whole file, or a manifest that lists it."
            )


def _empty_quarantine() -> pl.DataFrame:
    return pl.DataFrame(schema=QUARANTINE_COLUMNS)


def _with_day(quarantine: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    """Quarantine rows are filed under the partition being ingested."""
    return quarantine.with_columns(pl.lit(day).alias("x_charge_date")).select(
        list(QUARANTINE_COLUMNS)
    )


def _other_days(source: ModuleType, rows: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    """Rows a payload of `day` carried for another day: quarantined with amount and currency."""
    stray = rows.filter(pl.col("x_charge_date") != day)
    if stray.is_empty():
        return _empty_quarantine()
    amounts = source.row_amounts(stray)
    return pl.DataFrame(
        {
            "x_charge_date": [day] * stray.height,
            "x_source": [source.SOURCE] * stray.height,
            "x_ingestion_key": stray["x_ingestion_key"],
            "x_source_file": stray["x_source_file"],
            "x_source_line": stray["x_source_line"],
            "x_column": ["x_charge_date"] * stray.height,
            "x_reason": [
                f"charge day {d} is outside the file's day {day}" for d in stray["x_charge_date"]
            ],
            "x_raw_record": stray.select(
                pl.struct(pl.all()).struct.json_encode().alias("r")
            ).to_series(),
            "x_amount": amounts["amount"].cast(pl.Utf8),
            "x_currency": amounts["currency"],
        },
        schema=QUARANTINE_COLUMNS,
    )
