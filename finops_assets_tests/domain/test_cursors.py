"""Bounded sensor cursors: watermarks per billing period, ingested content from the archive."""

from finops_assets.domain.cursors import (
    LandedFile,
    advance_watermarks,
    content_digest,
    day_run_key,
    days_not_ingested,
    decode_watermarks,
    encode_watermarks,
    files_to_examine,
)


def _file(day: str, changed: int, source: str = "aws_cur") -> LandedFile:
    return LandedFile(source, day, f"{source}/{day}/a.csv", changed)


def test_first_start_examines_everything_and_the_cursor_has_one_entry_per_period():
    files = [_file(f"2026-{m:02d}-{d:02d}", 10 * m + d) for m in (10, 11, 12) for d in range(1, 29)]
    assert files_to_examine(files, decode_watermarks(None)) == files
    watermarks = advance_watermarks({}, files)
    assert watermarks == {"2026-10": 128, "2026-11": 138, "2026-12": 148}
    assert decode_watermarks(encode_watermarks(watermarks)) == watermarks
    assert len(encode_watermarks(watermarks)) < 120


def test_only_files_changed_after_their_period_watermark_are_examined():
    old, new = _file("2026-10-01", 5), _file("2026-10-02", 9)
    other = _file("2026-11-01", 3)
    watermarks = {"2026-10": 5, "2026-11": 3}
    assert files_to_examine([old, new, other], watermarks) == [new]
    assert advance_watermarks(watermarks, [new]) == {"2026-10": 9, "2026-11": 3}
    # a watermark never moves back (a file restored with an old mtime is not a reason to rewind)
    assert advance_watermarks({"2026-10": 9}, [old]) == {"2026-10": 9}


def test_an_old_style_cursor_is_treated_as_a_first_start():
    assert decode_watermarks('{"aws_cur/2026-10-01/a.csv": 1}') == {}


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
