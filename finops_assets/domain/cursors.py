"""Sensor cursors that start where the lake is and stay bounded.

A landing sensor must not re-run history when it is switched on, must not run twice for the
same bytes, and must not keep a cursor entry per file forever. The cursor holds two values per
billing period: a watermark (the newest change time seen among that period's files) and a
digest of the period's file names, so a file that appears with old times (a folder moved in)
is still seen; what was already ingested is read from the raw archive's content hashes, not
remembered in the cursor.

Pure Python: the sensors feed in what they listed and what the archive holds.
"""

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

DIGEST_CHARS = 16  # the raw archive names each payload <sha256[:16]>-<name>
CURSOR_FORMAT = "period-watermarks"


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


@dataclass(frozen=True)
class PeriodCursor:
    """Per billing period: the newest change time seen, and a digest of its file names."""

    watermarks: dict[str, int] = field(default_factory=dict)
    listings: dict[str, str] = field(default_factory=dict)


def decode_cursor(cursor: str | None) -> PeriodCursor:
    """The cursor's state; an empty or old-style cursor is a first start."""
    if not cursor:
        return PeriodCursor()
    loaded = json.loads(cursor)
    if not isinstance(loaded, dict) or loaded.get("format") != CURSOR_FORMAT:
        return PeriodCursor()
    return PeriodCursor(
        {str(k): int(v) for k, v in loaded["periods"].items()},
        {str(k): str(v) for k, v in loaded.get("listings", {}).items()},
    )


def encode_cursor(cursor: PeriodCursor) -> str:
    """The cursor text: two values per billing period, whatever the number of files."""
    return json.dumps(
        {
            "format": CURSOR_FORMAT,
            "periods": dict(sorted(cursor.watermarks.items())),
            "listings": dict(sorted(cursor.listings.items())),
        },
        sort_keys=True,
    )


def listing_digests(files: Iterable[LandedFile]) -> dict[str, str]:
    """Per billing period, a digest of its file paths (changes when a file appears or goes)."""
    paths: dict[str, list[str]] = {}
    for f in files:
        paths.setdefault(f.period, []).append(f.path)
    return {
        period: hashlib.sha256("\n".join(sorted(names)).encode()).hexdigest()[:DIGEST_CHARS]
        for period, names in paths.items()
    }


def files_to_examine(files: list[LandedFile], cursor: PeriodCursor) -> list[LandedFile]:
    """Files changed after their period's watermark, and every file of a period whose set of
    files changed (a folder moved in keeps its old times). Every file on a first start."""
    listings = listing_digests(files)
    moved = {p for p, digest in listings.items() if cursor.listings.get(p) != digest}
    return [
        f for f in files if f.period in moved or f.changed_ns > cursor.watermarks.get(f.period, -1)
    ]


def advance_cursor(cursor: PeriodCursor, files: list[LandedFile]) -> PeriodCursor:
    """Watermarks moved up to the newest change among each period's files (never down), and
    the listings of the periods seen now."""
    watermarks = dict(cursor.watermarks)
    for f in files:
        watermarks[f.period] = max(watermarks.get(f.period, -1), f.changed_ns)
    return PeriodCursor(watermarks, {**cursor.listings, **listing_digests(files)})


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


MAX_CONTENT_HASHES = 2048  # ~80 kB of cursor at most, whatever the number of objects


class ContentHashes:
    """A bounded map (object key, content tag) -> content digest, kept in a bucket sensor's
    cursor, so an object's bytes are downloaded once to learn what they are.

    The content tag (S3 ETag, GCS/Azure MD5) changes with the bytes, but one content has many
    tags (a multipart upload's ETag is not the single PUT's MD5), so only the digest says two
    objects are the same bytes. The tag alone is not trusted across keys: an MD5 can be made
    to collide. The most recently used `limit` entries are kept; a forgotten one is read again.
    """

    def __init__(self, entries: object = None, limit: int = MAX_CONTENT_HASHES):
        self.limit = limit
        self._known: dict[str, str] = {}
        if isinstance(entries, list):
            for pair in entries:
                if isinstance(pair, list) and len(pair) == 2:
                    self._known[str(pair[0])] = str(pair[1])
        self.downloads = 0

    def digest(self, key: str, tag: str, read: Callable[[], bytes]) -> str:
        """The content digest of the object at `key` with content tag `tag`; `read()` gives its
        bytes, called only when the map does not know them."""
        ident = hashlib.sha256(f"{key}\0{tag}".encode()).hexdigest()[:DIGEST_CHARS]
        value = self._known.pop(ident, None)
        if value is None:
            value = content_digest(read())
            self.downloads += 1
        self._known[ident] = value  # most recently used last
        return value

    def entries(self) -> list[list[str]]:
        """The map for the cursor: [ident, digest] pairs, oldest first, at most `limit`."""
        return [[k, v] for k, v in list(self._known.items())[-self.limit :]]


def content_run_key(day: str, contents: Iterable[tuple[str, str]]) -> str:
    """A day run key from the distinct (source, content digest) of its files: the same bytes
    under another name, or uploaded again with another content tag, give the same key."""
    digest = hashlib.sha256()
    for source, file_digest in sorted(set(contents)):
        digest.update(f"{source}\0{file_digest}\n".encode())
    return f"{day}:{digest.hexdigest()[:16]}"
