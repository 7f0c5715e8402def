"""Bounded sensor cursors: two values per billing period, ingested content from the archive."""

import json

from finops_assets.domain import cursors
from finops_assets.domain.cursors import (
    LandedFile,
    PeriodCursor,
    advance_cursor,
    content_digest,
    day_run_key,
    days_not_ingested,
    decode_cursor,
    encode_cursor,
    files_to_examine,
)


def _file(day: str, changed: int, source: str = "aws_cur", name: str = "a.csv") -> LandedFile:
    return LandedFile(source, day, f"{source}/{day}/{name}", changed)


def test_first_start_examines_everything_and_the_cursor_has_two_values_per_period():
    files = [_file(f"2026-{m:02d}-{d:02d}", 10 * m + d) for m in (10, 11, 12) for d in range(1, 29)]
    assert files_to_examine(files, decode_cursor(None)) == files
    cursor = advance_cursor(PeriodCursor(), files)
    assert cursor.watermarks == {"2026-10": 128, "2026-11": 138, "2026-12": 148}
    assert sorted(cursor.listings) == ["2026-10", "2026-11", "2026-12"]
    assert decode_cursor(encode_cursor(cursor)) == cursor
    assert len(encode_cursor(cursor)) < 250
    assert files_to_examine(files, cursor) == []


def test_only_files_changed_after_their_period_watermark_are_examined():
    old, new, other = _file("2026-10-01", 5), _file("2026-10-02", 5), _file("2026-11-01", 3)
    cursor = advance_cursor(PeriodCursor(), [old, new, other])
    touched = _file("2026-10-02", 9)
    assert files_to_examine([old, touched, other], cursor) == [touched]
    assert advance_cursor(cursor, [old, touched, other]).watermarks == {"2026-10": 9, "2026-11": 3}
    # a watermark never moves back (a file restored with an old mtime is not a reason to rewind)
    assert advance_cursor(cursor, [_file("2026-10-01", 1)]).watermarks["2026-10"] == 5


def test_a_file_that_appears_with_old_times_is_examined_with_its_period():
    old, other = _file("2026-10-01", 5), _file("2026-11-01", 3)
    cursor = advance_cursor(PeriodCursor(), [old, other])
    moved_in = _file("2026-10-03", 1)  # a day folder moved into the landing folder
    examined = files_to_examine([old, moved_in, other], cursor)
    assert examined == [old, moved_in]  # its period, not the others (the archive filters)


def test_an_old_style_cursor_is_treated_as_a_first_start():
    assert decode_cursor('{"aws_cur/2026-10-01/a.csv": 1}') == PeriodCursor()


def test_days_whose_bytes_are_archived_need_no_run():
    files = [_file("2026-10-01", 1), _file("2026-10-02", 1), _file("2026-10-02", 1, "k8s_usage")]
    content = {f.path: f"bytes of {f.path}".encode() for f in files}
    content[files[1].path] = b"restated"
    archive = {
        ("aws_cur", "2026-10-01"): {content_digest(b"bytes of aws_cur/2026-10-01/a.csv")},
        ("aws_cur", "2026-10-02"): {content_digest(b"bytes of aws_cur/2026-10-02/a.csv")},
        ("k8s_usage", "2026-10-02"): {content_digest(b"bytes of k8s_usage/2026-10-02/a.csv")},
    }

    def archived(source: str, day: str) -> set[str]:
        return archive.get((source, day), set())

    def digest_of(f: LandedFile) -> str:
        return content_digest(content[f.path])

    assert days_not_ingested(files, digest_of, archived) == ["2026-10-02"]
    assert days_not_ingested(files, digest_of, lambda s, d: set()) == ["2026-10-01", "2026-10-02"]


def test_run_key_depends_on_content_not_on_listing_order():
    a = day_run_key("", "2026-10-01", [("x", "1"), ("y", "2")])
    assert a == day_run_key("", "2026-10-01", [("y", "2"), ("x", "1")])
    assert a != day_run_key("", "2026-10-01", [("x", "1"), ("y", "3")])
    assert a.startswith("2026-10-01:")


def test_content_hashes_read_each_object_once_and_stay_bounded():
    read: list[str] = []

    def reader(body: str):
        return lambda: read.append(body) or body.encode()

    hashes = cursors.ContentHashes(limit=3)
    first = hashes.digest("a.csv", '"etag-1"', reader("same bytes"))
    # the same key and ETag: known, not read; the same bytes under a multipart ETag or another
    # key: read once, same digest
    assert hashes.digest("a.csv", '"etag-1"', reader("never read")) == first
    assert hashes.digest("a.csv", '"md5-2"', reader("same bytes")) == first
    assert hashes.digest("b.csv", '"etag-1"', reader("same bytes")) == first
    assert read == ["same bytes"] * 3
    for n in range(5):
        hashes.digest(f"n{n}.csv", "t", reader(f"other {n}"))
    kept = hashes.entries()
    assert len(kept) == 3  # bounded: the three most recently used
    reloaded = cursors.ContentHashes(json.loads(json.dumps(kept)), limit=3)
    assert reloaded.digest("n4.csv", "t", reader("not read again")) == content_digest(b"other 4")
    assert reloaded.downloads == 0 and read[-1] == "other 4"
    assert reloaded.digest("n0.csv", "t", reader("other 0")) and reloaded.downloads == 1


def test_a_content_run_key_ignores_names_and_repeats_but_not_sources():
    key = cursors.content_run_key
    assert key("2026-10-01", [("aws_cur", "d1"), ("aws_cur", "d1")]) == key(
        "2026-10-01", [("aws_cur", "d1")]
    )
    assert key("2026-10-01", [("aws_cur", "d1")]) != key("2026-10-01", [("focus_export", "d1")])
    assert key("2026-10-01", [("aws_cur", "d1")]).startswith("2026-10-01:")
