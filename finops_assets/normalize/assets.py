"""Normalize-stage assets: fx_rates, service_catalog and normalized_costs."""

import datetime as dt

import dagster as dg
import polars as pl
from dagster import AssetExecutionContext
from dagster._core.definitions.data_version import (
    DATA_VERSION_IS_USER_PROVIDED_TAG,
    DATA_VERSION_TAG,
)

from finops_assets.concurrency import writer_pool
from finops_assets.domain import catalog as catalog_domain
from finops_assets.domain import fx, fx_feed
from finops_assets.domain.normalize import gross_net_summary
from finops_assets.domain.quarantine import QuarantineLimits
from finops_assets.domain.reference import load_tag_aliases
from finops_assets.ingest.assets import SINGLE_RUN
from finops_assets.metadata import markdown_table
from finops_assets.normalize.checks import (
    FX_RATES_SCHEMA,
    conservation_result,
    missing_rate_failures,
    money_conserved_result,
    normalized_contract_result,
    normalized_quarantine_result,
)
from finops_assets.normalize.pipeline import normalize_day
from finops_assets.partitions import daily_partitions, partition_days
from finops_assets.resources.lake import LakeResource
from finops_assets.resources.reference import FxFeedError, FxRatesResource
from finops_assets.settings import Settings
from finops_assets.sources import BILLING_SOURCES
from finops_assets.storage import tables
from finops_assets.storage.validation import validate_frame


@dg.asset(
    group_name="normalize",
    pool=writer_pool("fx_rates"),
    partitions_def=daily_partitions,
    backfill_policy=SINGLE_RUN,
    kinds={"delta", "polars"},
    check_specs=[dg.AssetCheckSpec("check_rates_within_lookback", asset="fx_rates", blocking=True)],
)
def fx_rates(context: AssetExecutionContext, lake: LakeResource, rates: FxRatesResource):
    """Daily FX rates per currency (units per EUR) and the publication day each rate comes from.

    Each day gets its own data version (a hash of that day's rates), recorded on a per-partition
    materialization after the run's result: a late or corrected rate makes exactly the
    normalized_costs days that used it stale, even when many days run in one ranged run.
    """
    delta, days = lake.delta(), list(partition_days(context))
    history = _rates_history(rates, days)
    missing, versions, written = [], {}, 0
    for day in days:
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
        versions[day.isoformat()] = fx.day_rates_version(day_rates)
        written += day_rates.height
    yield dg.MaterializeResult(
        metadata={"rows": written, "lookback_days": rates.lookback_days},
        check_results=[
            dg.AssetCheckResult(
                check_name="check_rates_within_lookback",
                passed=not missing,
                metadata={"missing": dg.MetadataValue.json(missing[:20])},
            )
        ],
    )
    yield from _day_versions(versions)


def _rates_history(rates: FxRatesResource, days: list[dt.date]) -> pl.DataFrame:
    """The rates history for `days`; waits (RetryRequested) while a day is not published yet.

    The ECB publishes each working day's rates in the afternoon (CET): a day after the newest
    published one, or a feed that cannot be reached right now, is tried again later rather than
    failed. Once the tries run out the step fails, naming the days and the newest published day.
    """
    seconds, retries = rates.wait()
    try:
        history, live = rates.history(days)
    except FxFeedError as error:
        if not error.transient:
            raise
        raise dg.RetryRequested(max_retries=retries, seconds_to_wait=seconds) from error
    waiting = fx_feed.unpublished_days(days, history) if live else []
    if waiting:
        newest = fx_feed.last_published_day(history)
        raise dg.RetryRequested(max_retries=retries, seconds_to_wait=seconds) from (
            fx_feed.RatesNotPublishedError(
                f"ECB rates for {', '.join(d.isoformat() for d in waiting[:5])}"
                f"{' ...' if len(waiting) > 5 else ''} are not published yet (newest: {newest}); "
                f"trying again in {seconds} s, at most {retries} times"
            )
        )
    return history


def _day_versions(versions: dict[str, str]):
    """One materialization per day carrying that day's data version (the latest one wins)."""
    for day, version in versions.items():
        yield dg.AssetMaterialization(
            asset_key="fx_rates",
            partition=day,
            tags={DATA_VERSION_TAG: version, DATA_VERSION_IS_USER_PROVIDED_TAG: "true"},
            metadata={"rates_version": version},
        )


def _published_currencies(history: pl.DataFrame, day: dt.date, lookback_days: int) -> set[str]:
    """Currencies with a published rate within the lookback window before `day`."""
    earliest = day - dt.timedelta(days=lookback_days)
    window = history.filter(pl.col("rate_date").is_between(earliest, day))
    return set(window["currency"].unique().to_list())


@dg.asset(group_name="normalize", kinds={"delta", "polars"}, pool=writer_pool("service_catalog"))
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
    pool=writer_pool("normalized_costs"),
    partitions_def=daily_partitions,
    backfill_policy=SINGLE_RUN,
    kinds={"delta", "polars"},
    deps=[*[tables.raw_contract(s).name for s in BILLING_SOURCES], fx_rates, service_catalog],
    check_specs=[
        dg.AssetCheckSpec("check_normalized_contract", asset="normalized_costs", blocking=True),
        dg.AssetCheckSpec("check_billed_cost_conserved", asset="normalized_costs", blocking=True),
        dg.AssetCheckSpec("check_services_mapped", asset="normalized_costs", blocking=False),
        dg.AssetCheckSpec("check_money_conserved", asset="normalized_costs", blocking=True),
        dg.AssetCheckSpec("check_quarantined_money", asset="normalized_costs", blocking=True),
        dg.AssetCheckSpec("check_fx_rates_available", asset="normalized_costs", blocking=True),
    ],
)
def normalized_costs(context: AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    """Every cost row of every source as FOCUS 1.2, with base-currency amounts: the one cost model."""
    delta, base = lake.delta(), lake.currency()
    catalog, catalog_version = catalog_domain.load_shipped_catalog()
    aliases = load_tag_aliases()
    summary, contract_failures, conservation_failures, unmapped = [], [], [], []
    gross_net_days: list[pl.DataFrame] = []
    money_failures: list[dict] = []
    limit_failures: list[dict] = []
    rate_failures: list[dict] = []
    limits = QuarantineLimits.from_settings(Settings.from_env())
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
        gross_net_days.append(gross_net_summary(result.rows))
        conserved = conservation_result(result.source_totals, result.rows, result.quarantine)
        every_column, _ = money_conserved_result(
            day, result.source_rows, result.rows, result.quarantine
        )
        within = normalized_quarantine_result(day, result.rows, result.quarantine, limits)
        unmapped.append(result.unmapped_services)
        money_failures += every_column.failures
        limit_failures += within.failures
        missing_rates = missing_rate_failures(result.quarantine, day)
        rate_failures += missing_rates
        passed = contract.passed and conserved.passed and every_column.passed and within.passed
        if missing_rates or not passed:
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
            "gross_net": markdown_table(_gross_net_total(gross_net_days)),
        },
        check_results=_normalized_check_results(
            {
                "check_normalized_contract": contract_failures,
                "check_billed_cost_conserved": conservation_failures,
                "check_money_conserved": money_failures,
                "check_quarantined_money": limit_failures,
                "check_fx_rates_available": rate_failures,
            },
            gross_net=_gross_net_total(gross_net_days),
            unmapped=unmapped_all,
        ),
    )


def _normalized_check_results(
    failures: dict[str, list], gross_net: pl.DataFrame, unmapped: pl.DataFrame
) -> list[dg.AssetCheckResult]:
    """The blocking checks (failures listed in metadata) and the unmapped-services warning."""
    extra = {"check_money_conserved": {"gross_net": markdown_table(gross_net)}}
    results = [
        dg.AssetCheckResult(
            check_name=name,
            passed=not found,
            metadata={"failures": dg.MetadataValue.json(found[:20]), **extra.get(name, {})},
        )
        for name, found in failures.items()
    ]
    results.append(
        dg.AssetCheckResult(
            check_name="check_services_mapped",
            passed=unmapped.is_empty(),
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"unmapped": markdown_table(unmapped)},
        )
    )
    return results


def _gross_net_total(days: list[pl.DataFrame]) -> pl.DataFrame:
    """Gross, credits, adjustments, tax and billed per billing currency over the run's days."""
    if not days:
        return pl.DataFrame()
    return pl.concat(days).group_by("currency").agg(pl.all().sum()).sort("currency")


def _day_summary(day: dt.date, result, version: int) -> dict:
    return {
        "day": day.isoformat(),
        "rows": result.rows.height,
        "quarantined": result.quarantine.height,
        "delta_version": version,
    }
