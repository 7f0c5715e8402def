"""A day's data version ignores where its rows came from (delivery, file, line), not what they hold."""

import polars as pl

from finops_assets.storage.fingerprint import frames_fingerprint


def _rows(key: str, lines: list[int], cost: str = "1.50") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "x_ingestion_key": [key] * len(lines),
            "x_source_file": [f"focus_export/{key}/part.csv"] * len(lines),
            "x_source_line": lines,
            "x_source_row_key": [f"{key}|part.csv|{n}" for n in lines],
            "BilledCost": [cost] * len(lines),
        }
    ).with_columns(pl.col("BilledCost").cast(pl.Decimal(38, 10)))


def test_the_same_rows_from_a_restated_delivery_keep_their_fingerprint():
    before = frames_fingerprint([_rows("focus:oci:2026-10-01:aaaa", [2, 3])], "v1")
    moved = frames_fingerprint([_rows("focus:oci:2026-10-01:bbbb", [40, 41])], "v1")
    assert moved == before


def test_changed_amounts_or_row_counts_change_the_fingerprint():
    before = frames_fingerprint([_rows("k", [2, 3])], "v1")
    assert frames_fingerprint([_rows("k", [2, 3], cost="1.51")], "v1") != before
    assert frames_fingerprint([_rows("k", [2, 3, 4])], "v1") != before
    assert frames_fingerprint([_rows("k", [2, 3])], "v2") != before


def test_the_lineage_fingerprint_sees_only_what_the_data_version_leaves_out():
    """The day memo's lineage version: a new delivery's file names change it, row order and
    the rows' content do not (the data version covers content)."""
    from finops_assets.storage.fingerprint import lineage_fingerprint

    rows = pl.DataFrame({"BilledCost": ["1.5", "2"], "x_source_file": ["a.csv", "a.csv"]})
    renamed = rows.with_columns(pl.lit("b.csv").alias("x_source_file"))
    changed = rows.with_columns(pl.lit("9").alias("BilledCost"))
    assert lineage_fingerprint([rows]) != lineage_fingerprint([renamed])
    assert lineage_fingerprint([rows]) == lineage_fingerprint([changed])
    assert lineage_fingerprint([rows.reverse()]) == lineage_fingerprint([rows])


def test_a_lineage_folded_chunk_by_chunk_equals_the_whole_days():
    """A streamed day folds its rows' lineage chunk by chunk (normalize/streaming.py): the
    lineage version is that of the whole day's frames, whatever the chunking."""
    from finops_assets.storage.fingerprint import (
        Fingerprint,
        frame_fingerprint,
        lineage_fingerprint,
        lineage_frame,
        lineages_version,
    )

    rows = _rows("focus:oci:2026-10-01:aaaa", [2, 3, 4, 5, 6])
    quarantine = _rows("focus:oci:2026-10-01:aaaa", [9])
    folded = Fingerprint()
    for chunk in rows.iter_slices(2):
        folded.add(lineage_frame(chunk))
    whole = lineage_fingerprint([rows, quarantine])
    assert lineages_version([folded, frame_fingerprint(lineage_frame(quarantine))]) == whole
    moved = _rows("focus:oci:2026-10-01:bbbb", [2, 3, 4, 5, 6])
    assert lineage_fingerprint([moved, quarantine]) != whole
