"""Row counts across normalization: no row is lost, not even one that costs 0 on every column
(which no amount check can see: usage-only and free-tier rows are common in real bills).

Per day and source: rows in == normalized rows + quarantined rows, where rows in is what the
source's raw rows must become as FOCUS rows (`rows_in`):

- AWS CUR 1.0 and 2.0, Cost Explorer, FOCUS exports: 1:1, one FOCUS row per raw row.
- Azure: 1:1 over both datasets: an actual-export row that the amortized export counts is
  quarantined with its reason (azure_datasets.counted_elsewhere_quarantine), not dropped.
- GCP: not 1:1: each export row gives one FOCUS row plus one Credit row per entry of its
  `credits` (gcp_billing_export_focus._credit_rows), so rows in = raw rows + credit entries,
  counted here from the raw rows, apart from to_focus.

Normalization (domain.normalize.normalize_costs) puts every FOCUS row in exactly one of rows or
quarantine, 1:1. The report also says where a row went missing: `lost_in_focus` (rows in - FOCUS
rows, to_focus) and `difference` (rows in - normalized - quarantined, the whole way).
"""

import datetime as dt

import polars as pl

COUNTS_SCHEMA = {
    "x_source": pl.Utf8(),
    "raw_rows": pl.Int64(),
    "rows_in": pl.Int64(),
    "focus_rows": pl.Int64(),
}
_SOURCE_ROWS = {"x_source": pl.Utf8(), "rows": pl.Int64()}
_GCP = "gcp_billing_export"
_UNKNOWN = "<unknown>"


def rows_in(source: str, raw: pl.DataFrame) -> int:
    """How many FOCUS rows the raw rows of `source` must become (see the module doc)."""
    if source != _GCP or raw.is_empty():
        return raw.height
    from finops_assets.domain.sources.gcp_billing_export_focus import _CREDIT_DTYPE

    credits = pl.col("credits_json")
    entries = raw.filter(credits.str.len_bytes() > 2).select(
        credits.str.json_decode(_CREDIT_DTYPE).list.len().sum()
    )
    return raw.height + int(entries.item() or 0)


def source_counts(source: str, raw: pl.DataFrame, focus_rows: int) -> pl.DataFrame:
    """One source's (or chunk's) raw rows, rows in, and the FOCUS rows to_focus made of them."""
    return pl.DataFrame(
        {
            "x_source": [source],
            "raw_rows": [raw.height],
            "rows_in": [rows_in(source, raw)],
            "focus_rows": [focus_rows],
        },
        schema=COUNTS_SCHEMA,
    )


def normalized_row_counts(rows: pl.DataFrame) -> pl.DataFrame:
    """Per x_source, how many normalized rows."""
    if rows.is_empty():
        return pl.DataFrame(schema=_SOURCE_ROWS)
    return rows.group_by(pl.col("x_source").fill_null(_UNKNOWN)).agg(
        pl.len().cast(pl.Int64).alias("rows")
    )


def quarantined_row_counts(quarantine: pl.DataFrame) -> pl.DataFrame:
    """Per source, how many rows normalization quarantined (the source is in x_raw_record, as
    the stage's quarantine rows all carry x_source 'normalized_costs')."""
    if quarantine.is_empty():
        return pl.DataFrame(schema=_SOURCE_ROWS)
    source = pl.col("x_raw_record").str.json_path_match("$.x_source").fill_null(_UNKNOWN)
    return quarantine.group_by(source.alias("x_source")).agg(pl.len().cast(pl.Int64).alias("rows"))


def row_conservation(
    sources: pl.DataFrame, normalized: pl.DataFrame, quarantine: pl.DataFrame
) -> pl.DataFrame:
    """Per source: raw_rows, rows_in, focus_rows, normalized_rows, quarantined_rows,
    lost_in_focus and difference (both 0 when no row was lost or doubled).

    `sources` are source_counts frames (per chunk: summed here); `normalized` per x_source
    counts (normalized_row_counts, per chunk: summed here); `quarantine` the day's quarantine.
    """
    parts = [
        _summed(sources, list(COUNTS_SCHEMA)[1:]),
        _summed(normalized.rename({"rows": "normalized_rows"}), ["normalized_rows"]),
        _summed(
            quarantined_row_counts(quarantine).rename({"rows": "quarantined_rows"}),
            ["quarantined_rows"],
        ),
    ]
    report = parts[0]
    for part in parts[1:]:
        report = report.join(part, on="x_source", how="full", coalesce=True)
    counts = [c for c in report.columns if c != "x_source"]
    report = report.with_columns(pl.col(c).fill_null(0) for c in counts)
    return report.with_columns(
        lost_in_focus=pl.col("rows_in") - pl.col("focus_rows"),
        difference=pl.col("rows_in") - pl.col("normalized_rows") - pl.col("quarantined_rows"),
    ).sort("x_source")


def row_failures(day: dt.date, report: pl.DataFrame) -> list[dict]:
    """The report's sources whose rows do not add up, as check failures (day first)."""
    broken = report.filter((pl.col("difference") != 0) | (pl.col("lost_in_focus") != 0))
    return [
        {"day": day.isoformat(), **{k: str(v) for k, v in row.items()}} for row in broken.to_dicts()
    ]


def _summed(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    if frame.is_empty():
        return pl.DataFrame(schema={"x_source": pl.Utf8(), **dict.fromkeys(columns, pl.Int64())})
    return frame.group_by("x_source").agg(pl.col(c).sum().cast(pl.Int64) for c in columns)
