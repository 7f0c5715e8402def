"""Small helpers that turn frames into Dagster UI metadata (markdown tables)."""

from collections.abc import Sequence

import dagster as dg
import polars as pl


def markdown_table(rows: Sequence[dict] | pl.DataFrame, limit: int = 50) -> dg.MetadataValue:
    """A markdown table for the Dagster UI; Decimals and dates shown as text, never as floats."""
    records = rows.head(limit).to_dicts() if isinstance(rows, pl.DataFrame) else list(rows)[:limit]
    if not records:
        return dg.MetadataValue.md("_none_")
    headers = list(records[0])
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for record in records:
        lines.append(
            "| " + " | ".join("" if record[h] is None else str(record[h]) for h in headers) + " |"
        )
    return dg.MetadataValue.md("\n".join(lines))


def check_result(
    check_name: str, failures: list[dict], severity: dg.AssetCheckSeverity | None = None
) -> dg.AssetCheckResult:
    """An asset check result that passes when `failures` is empty and shows the first 20 if not."""
    return dg.AssetCheckResult(
        check_name=check_name,
        passed=not failures,
        severity=severity or dg.AssetCheckSeverity.ERROR,
        metadata={
            "failure_count": len(failures),
            "failures": dg.MetadataValue.json(failures[:20]),
            "nothing_written_for_failed_days": bool(failures),
        },
    )
