"""Normalize-stage assets: fx_rates, service_catalog and normalized_costs."""

import datetime as dt

import dagster as dg
import polars as pl
from dagster import AssetExecutionContext

from finops_assets.domain import catalog as catalog_domain
from finops_assets.domain import fx
from finops_assets.domain.reference import load_tag_aliases
from finops_assets.ingest.assets import SINGLE_RUN
from finops_assets.metadata import markdown_table
from finops_assets.normalize.checks import (
    FX_RATES_SCHEMA,
    conservation_result,
    normalized_contract_result,
)
from finops_assets.normalize.pipeline import normalize_day
from finops_assets.partitions import daily_partitions, partition_days
from finops_assets.resources.lake import LakeResource
from finops_assets.resources.reference import FxRatesResource
from finops_assets.sources import BILLING_SOURCES
from finops_assets.storage import tables
from finops_assets.storage.validation import validate_frame


@dg.asset(
    group_name="normalize",
    partitions_def=daily_partitions,
    backfill_policy=SINGLE_RUN,
    kinds={"delta", "polars"},
    check_specs=[dg.AssetCheckSpec("check_rates_within_lookback", asset="fx_rates", blocking=True)],
)
def fx_rates(context: AssetExecutionContext, lake: LakeResource, rates: FxRatesResource):
    """Daily FX rates per currency (units per EUR) and the publication day each rate comes from."""
    delta, history = lake.delta(), fx.load_ecb_rates(rates.csv_text())
    missing, written = [], 0
    for day in partition_days(context):
        currencies = _published_currencies(history, day, rates.lookback_days) | {lake.currency()}
        try:
            day_rates = fx.rates_for_day(
                history, day, currencies, lookback_days=rates.lookback_days
            )
        except fx.FxRateMissingError as error:
            missing.append(str(error))
            continue
        outcome = validate_frame(FX_RATES_SCHEMA, day_rates)
        if not outcome.passed:
            missing += [f"{day}: {f}" for f in outcome.failures]
            continue
        delta.write_day(tables.FX_RATES, day_rates, day)
        written += day_rates.height
    return dg.MaterializeResult(
        metadata={"rows": written, "lookback_days": rates.lookback_days},
        check_results=[
            dg.AssetCheckResult(
                check_name="check_rates_within_lookback",
                passed=not missing,
                metadata={"missing": dg.MetadataValue.json(missing[:20])},
            )
        ],
    )


def _published_currencies(history: pl.DataFrame, day: dt.date, lookback_days: int) -> set[str]:
    """Currencies with a published rate within the lookback window before `day`."""
    earliest = day - dt.timedelta(days=lookback_days)
    window = history.filter(pl.col("rate_date").is_between(earliest, day))
    return set(window["currency"].unique().to_list())


@dg.asset(group_name="normalize", kinds={"delta", "polars"})
def service_catalog(lake: LakeResource) -> dg.MaterializeResult:
    """The shipped, versioned map from provider service codes to FOCUS service names and categories."""
    catalog, catalog_version = catalog_domain.load_shipped_catalog()
    version = lake.delta().write_all(tables.SERVICE_CATALOG, catalog)
    return dg.MaterializeResult(
        metadata={
            "rows": catalog.height,
            "catalog_version": catalog_version,
            "delta_version": version,
        },
        data_version=dg.DataVersion(catalog_version),
    )


@dg.asset(
    group_name="normalize",
    partitions_def=daily_partitions,
    backfill_policy=SINGLE_RUN,
    kinds={"delta", "polars"},
    deps=[*[tables.raw_contract(s).name for s in BILLING_SOURCES], fx_rates, service_catalog],
    check_specs=[
        dg.AssetCheckSpec("check_normalized_contract", asset="normalized_costs", blocking=True),
        dg.AssetCheckSpec("check_billed_cost_conserved", asset="normalized_costs", blocking=True),
        dg.AssetCheckSpec("check_services_mapped", asset="normalized_costs", blocking=False),
    ],
)
def normalized_costs(context: AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    """Every cost row of every source as FOCUS 1.2, with base-currency amounts: the one cost model."""
    delta, base = lake.delta(), lake.currency()
    catalog, catalog_version = catalog_domain.load_shipped_catalog()
    aliases = load_tag_aliases()
    summary, contract_failures, conservation_failures, unmapped = [], [], [], []
    for day in partition_days(context):
        result = normalize_day(
            delta,
            day,
            catalog=catalog,
            catalog_version=catalog_version,
            base_currency=base,
            tag_aliases=aliases,
        )
        contract = normalized_contract_result(result.rows)
        conserved = conservation_result(result.source_totals, result.rows, result.quarantine)
        unmapped.append(result.unmapped_services)
        if not (contract.passed and conserved.passed):
            contract_failures += contract.failures
            conservation_failures += [] if conserved.passed else conserved.failures
            continue
        version = delta.write_day(tables.NORMALIZED_COSTS, result.rows, day)
        delta.write_day(
            tables.QUARANTINE, result.quarantine, day, scope={"x_source": "normalized_costs"}
        )
        summary.append(_day_summary(day, result, version))
    unmapped_all = pl.concat(unmapped, how="diagonal_relaxed") if unmapped else pl.DataFrame()
    return dg.MaterializeResult(
        metadata={
            "rows": sum(s["rows"] for s in summary),
            "days_written": len(summary),
            "base_currency": base,
            "per_day": markdown_table(summary),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="check_normalized_contract",
                passed=not contract_failures,
                metadata={"failures": dg.MetadataValue.json(contract_failures[:20])},
            ),
            dg.AssetCheckResult(
                check_name="check_billed_cost_conserved",
                passed=not conservation_failures,
                metadata={"failures": dg.MetadataValue.json(conservation_failures[:20])},
            ),
            dg.AssetCheckResult(
                check_name="check_services_mapped",
                passed=unmapped_all.is_empty(),
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"unmapped": markdown_table(unmapped_all)},
            ),
        ],
    )


def _day_summary(day: dt.date, result, version: int) -> dict:
    return {
        "day": day.isoformat(),
        "rows": result.rows.height,
        "quarantined": result.quarantine.height,
        "delta_version": version,
    }
