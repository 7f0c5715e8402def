"""`finops inspect PATH`: detect a billing file's format, parse it as the pipeline would, report.

Nothing is written: no archive, no table.
"""

import datetime as dt
from pathlib import Path

import polars as pl

from finops_assets.domain.sources.common import SourceFormatError, ingestion_key
from finops_assets.domain.sources.detect import detect_format
from finops_assets.sources import BILLING_SOURCES

_BY_NAME = {source.SOURCE: source for source in BILLING_SOURCES}


def inspect_file(path: Path) -> str:
    """A text report: format, rows parsed, totals per currency, what would be quarantined and why."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    data = path.read_bytes()
    fmt = detect_format(data, path.name)
    source = _BY_NAME.get(fmt)
    if source is None:
        raise SourceFormatError(f"{path}: detected {fmt}, which has no parser yet")
    fetched = dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC).replace(microsecond=0)
    key = ingestion_key(source.PROVIDER, fmt, fetched.date(), data)
    parsed = source.parse(data, source_file=str(path), ingestion_key=key, fetched_at=fetched)
    lines = [f"{path}: {fmt} ({len(data):,} bytes)", f"rows parsed: {parsed.rows.height:,}"]
    if parsed.rows.height:
        days = parsed.rows["x_charge_date"]
        lines.append(f"charge days: {days.min()} .. {days.max()}")
    with pl.Config(
        tbl_rows=30,
        tbl_hide_dataframe_shape=True,
        fmt_str_lengths=80,
        tbl_hide_column_data_types=True,
    ):
        lines += ["billed totals per currency:", str(source.billed_totals(parsed.rows))]
        focus = source.to_focus(parsed.rows)
        by_category = (
            focus.group_by("ChargeCategory", "BillingCurrency")
            .agg(pl.len().alias("rows"), pl.col("BilledCost").sum(), pl.col("EffectiveCost").sum())
            .sort("ChargeCategory", "BillingCurrency")
        )
        lines += ["as FOCUS, per charge category:", str(by_category)]
        quarantine = parsed.quarantine
        lines.append(f"would be quarantined: {quarantine.height:,} rows")
        if quarantine.height:
            lines.append(str(quarantine.select("x_source_line", "x_column", "x_reason").head(30)))
    return "\n".join(lines)
