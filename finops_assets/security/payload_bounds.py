"""Bounds a billing payload must meet before any parser sees it, checked in constant memory.

A gzip payload is inflated once as a stream, counting bytes and lines and keeping nothing but
the header line, and refused past its inflation limit (an absolute cap, and a ratio cap per
file: see hardening.inflation_limit). A Parquet file is refused when its footer declares more
uncompressed bytes than that limit. A CSV whose lines are, on average, shorter than its header's
field separators is refused too: such "short lines" cost a parser kilobytes per line of two
bytes (1.3 million quarantine rows from a 193 KB file), while a real row holds every separator.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pyarrow.parquet as pq

from finops_assets.security.hardening import (
    MAX_INFLATION_RATIO,
    GzipBombError,
    bomb_message,
    inflate_chunks,
    inflation_limit,
)

MAX_HEADER_BYTES = 1 << 20
MIN_HEADER_FIELDS = 5  # fewer fields: not a billing CSV header, no line-shape rule


class PayloadBoundsError(GzipBombError):
    """A payload refused before parsing: a gzip or Parquet bomb, or a CSV of short lines."""


@dataclass(frozen=True)
class TextShape:
    """What a (possibly gzipped) text payload holds: bytes once inflated, lines, header line."""

    inflated_bytes: int
    lines: int
    header: bytes


def scan_text(data: bytes, limit: int, too_big: str) -> TextShape:
    """Inflate (if gzip) as a stream and measure; GzipBombError(too_big) past `limit` bytes."""
    chunks = inflate_chunks(data) if data[:2] == b"\x1f\x8b" else iter([data])
    inflated, lines, header, in_header = 0, 0, bytearray(), True
    for chunk in chunks:
        inflated += len(chunk)
        if inflated > limit:
            raise PayloadBoundsError(too_big)
        lines += chunk.count(b"\n")
        if in_header:
            end = chunk.find(b"\n")
            header += chunk if end < 0 else chunk[:end]
            in_header = end < 0 and len(header) < MAX_HEADER_BYTES
    return TextShape(inflated, lines, bytes(header[:MAX_HEADER_BYTES]))


def _check_line_shape(shape: TextShape, name: str) -> None:
    separators = shape.header.count(b",")
    if separators + 1 < MIN_HEADER_FIELDS or shape.lines <= 1:
        return
    # Each real row holds every separator, so bytes >= rows * separators; quoted line breaks
    # inside fields may double the line count, hence the factor 2.
    if shape.lines * separators > 2 * shape.inflated_bytes:
        average = shape.inflated_bytes / shape.lines
        raise PayloadBoundsError(
            f"{name}: {shape.lines:,} lines of {average:.1f} bytes on average, but its header has "
            f"{separators + 1} fields: short or ragged lines, refused whole"
        )


def _check_parquet(data: bytes, name: str, max_bytes: int, max_ratio: int) -> None:
    try:
        metadata = pq.ParquetFile(io.BytesIO(data)).metadata
    except Exception:  # an unreadable footer: the parser reports it with its own message
        return
    declared = sum(metadata.row_group(i).total_byte_size for i in range(metadata.num_row_groups))
    limit = inflation_limit(len(data), max_bytes, max_ratio)
    if declared > limit:
        raise PayloadBoundsError(
            f"{name}: Parquet file of {len(data)} bytes declares {declared} uncompressed bytes, "
            f"over its limit of {limit} (a decompression bomb)"
        )


def check_payload_bounds(
    data: bytes, name: str, max_bytes: int, max_ratio: int = MAX_INFLATION_RATIO
) -> None:
    """Refuse `data` (PayloadBoundsError naming `name`) before it is parsed; constant memory."""
    if data[:4] == b"PAR1":
        _check_parquet(data, name, max_bytes, max_ratio)
        return
    gzipped = data[:2] == b"\x1f\x8b"
    limit = inflation_limit(len(data), max_bytes, max_ratio) if gzipped else len(data)
    try:
        shape = scan_text(data, limit, f"{name}: {bomb_message(len(data), max_bytes, max_ratio)}")
    except PayloadBoundsError:
        raise
    except GzipBombError as error:
        raise PayloadBoundsError(f"{name}: {error}") from None
    _check_line_shape(shape, name)
