"""One day of one source: archive every payload, parse it, split good rows from quarantined ones."""

import datetime as dt
import json
from dataclasses import dataclass
from types import ModuleType

import polars as pl

from finops_assets.domain.sources.common import QUARANTINE_COLUMNS, ingestion_key
from finops_assets.resources.payloads import Payload
from finops_assets.storage.archive import RawArchive


@dataclass(frozen=True)
class IngestedDay:
    """What one day of one source produced."""

    rows: pl.DataFrame
    quarantine: pl.DataFrame
    archived: list[str]
    payload_names: list[str]


def ingest_payloads(
    source: ModuleType, payloads: list[Payload], day: dt.date, archive: RawArchive
) -> IngestedDay:
    """Archive then parse each payload of `day`; rows dated another day are quarantined, not lost.

    Except in a payload that `spans_days` (a whole-month export file): there only the day's rows
    (and its bad rows, and bad rows without a date) are kept; other days are their own partitions.
    """
    archived, frames, quarantines = [], [], []
    for payload in payloads:
        archived.append(archive.store(source.SOURCE, day, payload.name, payload.data))
        key = payload.ingestion_key or ingestion_key(
            source.PROVIDER, source.SOURCE, day, payload.data
        )
        parsed = source.parse(
            payload.data, source_file=payload.name, ingestion_key=key, fetched_at=payload.fetched_at
        )
        in_day = parsed.rows.filter(pl.col("x_charge_date") == day)
        frames.append(in_day)
        if payload.spans_days:  # a month file: other days' rows belong to their own partitions
            bad_date = pl.col("x_charge_date").is_null()
            own = parsed.quarantine.filter(bad_date | (pl.col("x_charge_date") == day))
            quarantines.append(_with_day(own, day))
            continue
        quarantines.append(_with_day(parsed.quarantine, day))
        quarantines.append(_other_days(parsed.rows, day, source.SOURCE))
    columns = dict(source.RAW_COLUMNS)
    rows = pl.concat(frames, how="vertical") if frames else pl.DataFrame(schema=columns)
    quarantine = pl.concat(quarantines, how="vertical") if quarantines else _empty_quarantine()
    return IngestedDay(rows, quarantine, archived, [p.name for p in payloads])


def _empty_quarantine() -> pl.DataFrame:
    return pl.DataFrame(schema=QUARANTINE_COLUMNS)


def _with_day(quarantine: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    """Quarantine rows are filed under the partition being ingested."""
    return quarantine.with_columns(pl.lit(day).alias("x_charge_date")).select(
        list(QUARANTINE_COLUMNS)
    )


def _other_days(rows: pl.DataFrame, day: dt.date, source: str) -> pl.DataFrame:
    """Rows a payload of `day` carried for another day: quarantined with the reason."""
    stray = rows.filter(pl.col("x_charge_date") != day)
    if stray.is_empty():
        return _empty_quarantine()
    records = [json.dumps(r, default=str, sort_keys=True) for r in stray.to_dicts()]
    return pl.DataFrame(
        {
            "x_charge_date": [day] * stray.height,
            "x_source": [source] * stray.height,
            "x_ingestion_key": stray["x_ingestion_key"],
            "x_source_file": stray["x_source_file"],
            "x_source_line": stray["x_source_line"],
            "x_column": ["x_charge_date"] * stray.height,
            "x_reason": [
                f"charge day {d} is outside the file's day {day}" for d in stray["x_charge_date"]
            ],
            "x_raw_record": records,
            "x_amount": [None] * stray.height,
            "x_currency": [None] * stray.height,
        },
        schema=QUARANTINE_COLUMNS,
    )
