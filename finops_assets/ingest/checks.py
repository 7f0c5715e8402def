"""Checks on raw tables: the contract, and how much money went to quarantine."""

import datetime as dt
from decimal import Decimal

import pandera.polars as pa
import polars as pl

from finops_assets.domain.money import parse_money_expr
from finops_assets.settings import Settings
from finops_assets.storage import tables
from finops_assets.storage.contract import TableContract
from finops_assets.storage.validation import ValidationOutcome, contract_schema, validate_frame


def raw_contract_result(
    contract: TableContract, rows: pl.DataFrame, day: dt.date
) -> ValidationOutcome:
    """check_raw_contract: typed columns, the day's rows only, ingestion metadata present."""
    schema = contract_schema(
        contract,
        checks={"x_charge_date": [pa.Check.equal_to(day)]},
        required=("x_ingestion_key", "x_source_file"),
    )
    return validate_frame(schema, rows)


def quarantine_threshold_result(
    billed_totals: pl.DataFrame, quarantine: pl.DataFrame, max_share: Decimal | None = None
) -> ValidationOutcome:
    """check_quarantined_money: quarantined money stays under a share of the day's money.

    Per currency, the share is |quarantined amounts| / (|quarantined| + |billed total of the
    rows that parsed|), over quarantined rows whose amount could be read;
    FINOPS_QUARANTINE_MAX_SHARE sets the limit (default 0.01).
    """
    limit = max_share if max_share is not None else Settings.from_env().quarantine_max_share
    if quarantine.is_empty():
        return ValidationOutcome(True, 0, [])
    bad = (
        quarantine.with_columns(parse_money_expr("x_amount").abs().alias("amount"))
        .group_by("x_currency")
        .agg(pl.col("amount").sum().alias("quarantined"), pl.len().alias("quarantined_rows"))
    )
    good = {r["currency"]: abs(r["amount"] or Decimal(0)) for r in billed_totals.to_dicts()}
    failures = []
    for record in bad.to_dicts():
        quarantined = record["quarantined"] or Decimal(0)
        total = quarantined + good.get(record["x_currency"], Decimal(0))
        share = quarantined / total if total else Decimal(0)
        if share > limit:
            failures.append(
                {
                    "currency": record["x_currency"],
                    "quarantined": str(quarantined),
                    "share": str(round(share, 6)),
                    "limit": str(limit),
                }
            )
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
        )
    },
    required=("cluster", "namespace", "pod"),
)
