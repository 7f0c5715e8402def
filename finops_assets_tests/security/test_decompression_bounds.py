"""Decompression bombs and short-line floods: refused in bounded memory, measured in a child.

The 1 GiB bomb is a real CUR header plus one real CUR row (koku's test_cur.csv, via the
shared_data fixture) repeated to 1 GiB, gzipped (about 5 MB, 206x). Peak memory (VmHWM) is read
by the child process itself (peak_memory.py), for `finops inspect` and for the pipeline's
ingestion; a bound on a child's peak memory is not a timed assertion.
"""

import datetime as dt
import gzip
import io
import json
import subprocess
import sys
import zlib
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from finops_assets.domain.sources import aws_cur
from finops_assets.domain.sources.common import MAX_RAW_RECORD_CHARS, SourceFormatError
from finops_assets.security.hardening import (
    RATIO_FLOOR_BYTES,
    GzipBombError,
    bounded_gunzip,
)
from finops_assets.security.payload_bounds import PayloadBoundsError, check_payload_bounds

BOMB_BYTES = 1 << 30
FETCHED = dt.datetime(2026, 10, 2, tzinfo=dt.UTC)
PEAK_LIMIT_MB = 300


def _cur_lines(shared_data: Path) -> tuple[bytes, bytes]:
    lines = (shared_data / "koku/aws/test_cur.csv").read_bytes().split(b"\n")
    return lines[0] + b"\n", lines[1] + b"\n"


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    header, row = _cur_lines(shared_data)
    path = tmp_path_factory.mktemp("bomb") / "cur-2026-10-01.csv.gz"
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
    block, written = row * ((1 << 20) // len(row)), 0
    with path.open("wb") as handle:
        handle.write(compressor.compress(header))
        while written < BOMB_BYTES:
            handle.write(compressor.compress(block))
            written += len(block)
        handle.write(compressor.flush())
    return path


def _child(*args: str) -> dict:
    command = [sys.executable, "-m", "finops_assets_tests.security.peak_memory", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_finops_inspect_refuses_a_1_gib_bomb_under_300_mb(bomb: Path) -> None:
    assert bomb.stat().st_size < 20 << 20  # the bomb really is small...
    report = _child("inspect", str(bomb))
    assert "more than 100 times its size (a gzip bomb)" in report["error"]
    assert str(bomb) in report["error"]
    assert report["peak_kb"] / 1024 < PEAK_LIMIT_MB, report


@pytest.mark.slow
def test_the_pipeline_refuses_a_1_gib_bomb_under_300_mb(bomb: Path, tmp_path: Path) -> None:
    report = _child("ingest", str(bomb), str(tmp_path / "lake"))
    # Refused whole and quarantined as one row (the quarantine check then decides the day).
    assert report["error"].startswith("refused cur-2026-10-01.csv.gz: cur-2026-10-01.csv.gz: gzip")
    assert "more than 100 times its size (a gzip bomb)" in report["error"]
    assert report["peak_kb"] / 1024 < PEAK_LIMIT_MB, report


@pytest.mark.slow
def test_short_lines_are_refused_before_parsing(shared_data: Path, tmp_path: Path) -> None:
    header, _ = _cur_lines(shared_data)
    flood = gzip.compress(header + b"x\n" * 1_000_000)  # about 3 kB: a million 2-byte rows
    with pytest.raises(PayloadBoundsError, match=r"flood.csv.gz: 1,000,001 lines of 2.0 bytes"):
        check_payload_bounds(flood, "flood.csv.gz", 4 << 30)
    path = tmp_path / "flood.csv.gz"
    path.write_bytes(flood)
    report = _child("inspect", str(path))
    assert "short or ragged lines, refused whole" in report["error"]
    assert report["peak_kb"] / 1024 < PEAK_LIMIT_MB, report


def test_every_public_sample_passes_the_bounds(shared_data: Path) -> None:
    files = sorted(shared_data.rglob("*.csv")) + sorted(shared_data.rglob("*.csv.gz"))
    files += sorted(shared_data.rglob("*.parquet")) + sorted(shared_data.rglob("*.json"))
    assert len(files) >= 10
    for path in files:
        data = path.read_bytes()
        check_payload_bounds(data, path.name, 4 << 30)
        if not path.name.endswith((".gz", ".parquet")):
            check_payload_bounds(gzip.compress(data, 9), path.name + ".gz", 4 << 30)


def test_the_ratio_cap_spares_small_files_and_refuses_big_inflations() -> None:
    small = gzip.compress(b"a" * (RATIO_FLOOR_BYTES - 1))  # 1000x, but under the floor
    assert len(bounded_gunzip(small, 4 << 30)) == RATIO_FLOOR_BYTES - 1
    big = gzip.compress(b"a" * (RATIO_FLOOR_BYTES * 2))
    with pytest.raises(GzipBombError, match="more than 100 times its size"):
        bounded_gunzip(big, 4 << 30)
    assert len(bounded_gunzip(big, 4 << 30, max_ratio=2000)) == RATIO_FLOOR_BYTES * 2
    with pytest.raises(GzipBombError, match="past the limit of 1000 bytes"):
        bounded_gunzip(gzip.compress(b"a" * 1001), 1000)
    member = gzip.compress(b"x,y\n")
    assert bounded_gunzip(member + member, 100) == b"x,y\nx,y\n"  # multi-member
    with pytest.raises(GzipBombError, match="truncated"):
        bounded_gunzip(member[:-6], 100)


def _parquet(rows: int) -> bytes:
    table = pa.table({"LineItem": pa.array(["a" * 1000] * rows)})
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd", use_dictionary=False)
    return sink.getvalue()


def test_a_parquet_file_declaring_a_huge_inflation_is_refused() -> None:
    bomb = _parquet(40_000)  # 40 MB of values in about 50 kB
    assert len(bomb) < 1 << 20
    with pytest.raises(PayloadBoundsError, match="bomb.parquet: .* declares .* uncompressed"):
        check_payload_bounds(bomb, "bomb.parquet", 4 << 30)
    check_payload_bounds(_parquet(4_000), "fine.parquet", 4 << 30)  # 4 MB: under the floor


def test_the_quarantine_keeps_a_bounded_excerpt_of_a_huge_bad_record(shared_data: Path) -> None:
    header, row = _cur_lines(shared_data)
    columns = header.decode().strip().split(",")
    fields = row.decode().strip().split(",")
    fields[columns.index("lineItem/UsageStartDate")] = "not-a-date-" + "z" * 300_000
    data = header + ",".join(fields).encode() + b"\n" + row
    parsed = aws_cur.parse(
        data,
        source_file="big.csv",
        ingestion_key="k",
        fetched_at=FETCHED,
    )
    assert parsed.quarantine.height == 1 and parsed.rows.height == 1
    bad = parsed.quarantine.row(0, named=True)
    record = json.loads(bad["x_raw_record"])
    assert record["x_chars"] > 300_000 and len(record["x_excerpt"]) == MAX_RAW_RECORD_CHARS
    assert len(bad["x_reason"]) < 1100 and bad["x_column"] == "line_item_usage_start_date"
    assert bad["x_amount"] == fields[columns.index("lineItem/UnblendedCost")]
    assert pl.Series([bad["x_raw_record"]]).str.len_bytes()[0] < MAX_RAW_RECORD_CHARS + 200


def test_a_parse_error_still_names_the_file() -> None:
    with pytest.raises(SourceFormatError, match="broken.csv.gz"):
        aws_cur.parse(
            b"\x1f\x8b\x08\x00garbage",
            source_file="broken.csv.gz",
            ingestion_key="k",
            fetched_at=FETCHED,
        )
