"""Sensor cursors that start where the lake is and stay bounded.

A landing sensor must not re-run history when it is switched on, must not run twice for the
same bytes, and must not keep a cursor entry per file forever. The cursor is one watermark per
billing period (the newest change time seen among that period's files); what was already
ingested is read from the raw archive's content hashes, not remembered in the cursor.

Pure Python: the sensors feed in what they listed and what the archive holds.
"""

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

DIGEST_CHARS = 16  # the raw archive names each payload <sha256[:16]>-<name>


@dataclass(frozen=True)
class LandedFile:
    """One export file as listed: its source, charge day, path and last change (ns)."""

    source: str
    day: str
    path: str
    changed_ns: int

    @property
    def period(self) -> str:
        """The billing period (YYYY-MM) the file's charge day belongs to."""
        return self.day[:7]


def content_digest(data: bytes) -> str:
    """The archive's content address of a payload (hex prefix of its SHA-256)."""
    return hashlib.sha256(data).hexdigest()[:DIGEST_CHARS]


def decode_watermarks(cursor: str | None) -> dict[str, int]:
    """The cursor's billing period -> watermark map; an empty or old-style cursor is {}."""
    if not cursor:
        return {}
    loaded = json.loads(cursor)
    if not isinstance(loaded, dict) or loaded.get("format") != "period-watermarks":
        return {}
    return {str(k): int(v) for k, v in loaded["periods"].items()}


def encode_watermarks(watermarks: Mapping[str, int]) -> str:
    """The cursor text: one integer per billing period, whatever the number of files."""
    return json.dumps(
        {"format": "period-watermarks", "periods": dict(sorted(watermarks.items()))},
        sort_keys=True,
    )


def files_to_examine(
    files: Iterable[LandedFile], watermarks: Mapping[str, int]
) -> list[LandedFile]:
    """Files changed after their billing period's watermark (every file on a first start)."""
    return [f for f in files if f.changed_ns > watermarks.get(f.period, -1)]


def advance_watermarks(
    watermarks: Mapping[str, int], files: Iterable[LandedFile]
) -> dict[str, int]:
    """Each period's watermark moved up to the newest change among its files, never down."""
    updated = dict(watermarks)
    for f in files:
        updated[f.period] = max(updated.get(f.period, -1), f.changed_ns)
    return updated


def days_not_ingested(
    examined: Iterable[LandedFile],
    digest_of: Callable[[LandedFile], str],
    archived: Callable[[str, str], set[str]],
) -> list[str]:
    """Charge days with at least one examined file whose content the archive does not hold.

    `digest_of(file)` is the file's content digest; `archived(source, day)` the digests the raw
    archive holds for that source and day. Bytes already archived (a duplicate delivery, or a
    lake that was loaded before the sensor was switched on) need no run.
    """
    held: dict[tuple[str, str], set[str]] = {}
    days = set()
    for f in examined:
        if f.day in days:
            continue
        key = (f.source, f.day)
        if key not in held:
            held[key] = archived(f.source, f.day)
        if digest_of(f) not in held[key]:
            days.add(f.day)
    return sorted(days)


def day_run_key(prefix: str, day: str, digests: Iterable[tuple[str, str]]) -> str:
    """A run key from the day and the content of every file of it: same bytes, same key."""
    digest = hashlib.sha256()
    for path, file_digest in sorted(digests):
        digest.update(f"{path}\0{file_digest}\n".encode())
    return f"{prefix}{day}:{digest.hexdigest()[:16]}"
