"""Checks on raw tables: the contract, and how much money went to quarantine."""

import datetime as dt
from types import ModuleType

import pandera.polars as pa
import polars as pl

from finops_assets.domain.money import MONEY
from finops_assets.domain.quarantine import (
    QuarantineLimits,
    limit_failures,
    quarantined_money,
    refused_file_failures,
)
from finops_assets.ingest.pipeline import IngestedDay
from finops_assets.storage import tables
from finops_assets.storage.contract import TableContract
from finops_assets.storage.validation import ValidationOutcome, contract_schema, validate_frame


def raw_contract_result(
    contract: TableContract, rows: pl.DataFrame, day: dt.date, first_index: int = 0
) -> ValidationOutcome:
    """check_raw_contract: typed columns, the day's rows only, ingestion metadata present.

    Give it the rows the day's files claimed BEFORE they were filtered to the day (IngestedDay.
    parsed_rows): a row of another day in a one-day file fails the day, naming file and line.
    `first_index`: the index of `rows`' first row among the day's (for a batch of them).
    """
    schema = contract_schema(
        contract,
        checks={"x_charge_date": [pa.Check.equal_to(day)]},
        required=("x_ingestion_key", "x_source_file"),
    )
    outcome = validate_frame(schema, rows)
    if outcome.passed:
        return outcome
    located = [_located(failure, rows, day, first_index) for failure in outcome.failures]
    return ValidationOutcome(False, outcome.failure_count, located)


def _located(failure: dict, rows: pl.DataFrame, day: dt.date, first_index: int = 0) -> dict:
    """A pandera failure case with the day, file and line of the row it points at."""
    index = failure.get("index")
    if index is None or not str(index).isdigit() or int(index) >= rows.height:
        return {"day": day.isoformat(), **failure}
    row = rows.row(int(index), named=True)
    if first_index:
        failure = {**failure, "index": str(int(index) + first_index)}
    return {
        "day": day.isoformat(),
        "file": row.get("x_source_file"),
        "line": row.get("x_source_line"),
        **failure,
    }


def raw_kept_money(source: ModuleType, rows: pl.DataFrame) -> pl.DataFrame:
    """[currency, money_column, amount] of the rows a source-day kept.

    BilledCost from the source's billed_totals; a source whose raw rows carry the other FOCUS
    money columns (RAW_MONEY_COLUMNS, e.g. FOCUS exports) adds them.
    """
    billed = source.billed_totals(rows).select(
        "currency", pl.lit("BilledCost").alias("money_column"), pl.col("amount").cast(MONEY)
    )
    columns = getattr(source, "RAW_MONEY_COLUMNS", {})
    currency = getattr(source, "RAW_CURRENCY_COLUMN", None)
    others = [
        rows.group_by(pl.col(currency).alias("currency")).agg(
            pl.lit(focus_name).alias("money_column"),
            pl.col(raw_name).sum().cast(MONEY).alias("amount"),
        )
        for focus_name, raw_name in columns.items()
        if focus_name != "BilledCost" and currency
    ]
    return pl.concat([billed, *others], how="vertical") if others else billed


def quarantine_threshold_result(
    source: ModuleType,
    ingested: IngestedDay,
    day: dt.date,
    limits: QuarantineLimits,
) -> ValidationOutcome:
    """check_quarantined_money: a source-day passes only while its quarantine stays in limits.

    Per currency and money column, quarantined money over the day's money (share) and in
    absolute terms, and the number of files refused as unreadable (FINOPS_QUARANTINE_*, given
    by the caller from the lake resource's settings). Each failure names the day, the files and
    the top reasons.
    """
    kept = raw_kept_money(source, ingested.rows)
    return quarantine_limits_result(
        source,
        kept,
        ingested.quarantine,
        ingested.refused_files,
        len(ingested.payload_names),
        day,
        limits,
    )


def quarantine_limits_result(
    source: ModuleType,
    kept: pl.DataFrame,
    quarantine: pl.DataFrame,
    refused_files: list[dict],
    files: int,
    day: dt.date,
    limits: QuarantineLimits,
) -> ValidationOutcome:
    """quarantine_threshold_result from the day's kept money (raw_kept_money of its rows, or
    the sums of its batches'), its quarantine, refused files and number of files."""
    quarantined = quarantined_money(quarantine, getattr(source, "RAW_MONEY_COLUMNS", {}))
    failures = limit_failures(day, kept, quarantined, limits)
    failures += refused_file_failures(day, refused_files, files, limits)
    return ValidationOutcome(not failures, len(failures), failures)


K8S_USAGE_SCHEMA = contract_schema(
    tables.K8S_USAGE_RAW,
    checks={
        c: [pa.Check.ge(0)]
        for c in (
            "cpu_usage_core_seconds",
            "cpu_request_core_seconds",
            "memory_usage_byte_seconds",
            "memory_request_byte_seconds",
            "gpu_usage_seconds",
            "gpu_request_seconds",
            "node_capacity_cpu_core_seconds",
            "node_capacity_memory_byte_seconds",
            "node_capacity_gpu_seconds",
        )
    },
    required=("cluster", "namespace", "pod"),
)
