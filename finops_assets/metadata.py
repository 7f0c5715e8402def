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
