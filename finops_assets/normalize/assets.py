"""Normalize-stage assets: fx_rates, service_catalog and normalized_costs."""

import datetime as dt
import json
from collections.abc import Iterator

import dagster as dg
import polars as pl
from dagster import AssetExecutionContext

from finops_assets.concurrency import writer_pool
from finops_assets.day_writer import CheckOutcome, DayEvent, DayWriter
from finops_assets.domain import catalog as catalog_domain
from finops_assets.domain import fx, fx_feed
from finops_assets.domain.normalize import gross_net_summary
from finops_assets.domain.quarantine import QuarantineLimits
from finops_assets.domain.reference import load_tag_aliases
from finops_assets.metadata import markdown_table, money_table
from finops_assets.normalize.checks import (
    FX_RATES_SCHEMA,
    NORMALIZED_CHECKS,
    conservation_result,
    missing_rate_failures,
    money_conserved_result,
    normalized_quarantine_result,
    rows_conserved_result,
)
from finops_assets.normalize.pipeline import normalize_day
from finops_assets.normalize.streaming import (
    StreamedDay,
    normalize_day_streamed,
    streamed_from_whole,
)
from finops_assets.partitions import SINGLE_RUN, daily_partitions
from finops_assets.resources.aws_payer import resolve_payer_account
from finops_assets.resources.lake import LakeResource
from finops_assets.resources.reference import FxFeedError, FxRatesResource
from finops_assets.sources import BILLING_SOURCES
from finops_assets.storage import tables
from finops_assets.storage.fingerprint import fingerprints_version, frame_fingerprint
from finops_assets.storage.spill import SpillFolder
from finops_assets.storage.validation import validate_frame


@dg.asset(
    group_name="normalize",
    pool=writer_pool("fx_rates"),
    partitions_def=daily_partitions,
    backfill_policy=SINGLE_RUN,
    kinds={"delta", "polars"},
    check_specs=[
        dg.AssetCheckSpec(
            "check_rates_within_lookback",
            asset="fx_rates",
            blocking=True,
            partitions_def=daily_partitions,
            description="Every currency the day needs has a positive rate published on or "
            "before the day, within the lookback window.",
        )
    ],
)
def fx_rates(
    context: AssetExecutionContext, lake: LakeResource, rates: FxRatesResource
) -> Iterator[DayEvent]:
    """Daily FX rates per currency (units per EUR) and the publication day each rate comes from.

    Each day's data version is a hash of that day's rates: a late or corrected rate makes
    exactly the normalized_costs days that used it stale, even when many days run in one run.
    """
    delta, writer = lake.delta(), DayWriter(context)
    history = _rates_history(rates, writer.days)

    def one_day(day: dt.date) -> None:
        currencies = _published_currencies(history, day, rates.lookback_days) | {lake.currency()}
        try:
            day_rates = fx.rates_for_day(
                history, day, currencies, lookback_days=rates.lookback_days
            )
        except fx.FxRateMissingError as error:
            missing = [{"day": day.isoformat(), "missing": str(error)}]
            writer.commit(day, {"check_rates_within_lookback": missing}, lambda: None, "")
            return
        version = fx.day_rates_version(day_rates)
        writer.commit(
            day,
            {"check_rates_within_lookback": validate_frame(FX_RATES_SCHEMA, day_rates)},
            lambda: delta.write_day(tables.FX_RATES, day_rates, day),
            content=version,
            metadata={
                "rows": day_rates.height,
                "rates_version": version,
                "lookback_days": rates.lookback_days,
            },
        )

    yield from writer.run(one_day)


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
        dg.AssetCheckSpec(
            name,
            asset="normalized_costs",
            blocking=name != "check_services_mapped",
            partitions_def=daily_partitions,
            description=description,
        )
        for name, description in NORMALIZED_CHECKS.items()
    ],
)
def normalized_costs(context: AssetExecutionContext, lake: LakeResource) -> Iterator[DayEvent]:
    """Every cost row of every source as FOCUS 1.2, with base-currency amounts: the one cost model."""
    delta, base = lake.delta(), lake.currency()
    catalog, catalog_version = catalog_domain.load_shipped_catalog()
    aliases = load_tag_aliases()
    settings = lake.settings()
    limits = QuarantineLimits.from_settings(settings)
    payer = resolve_payer_account(settings)
    # a day is computed only when its raw days, rates, catalog, aliases or payer changed
    memo_extra = json.dumps({"aliases": aliases, "payer": payer}, sort_keys=True)
    writer = DayWriter(
        context,
        logic_version=catalog_version,
        memo=True,
        memo_extra=memo_extra,
        memo_output=lambda day: delta.day_files([tables.NORMALIZED_COSTS], day),
    )

    def one_day(day: dt.date) -> None:
        with SpillFolder() as spill:
            result = normalize_day_streamed(
                delta,
                day,
                spill.hold,
                catalog=catalog,
                catalog_version=catalog_version,
                base_currency=base,
                tag_aliases=aliases,
                aws_payer_account=payer,
            )
            if not result.consistent:
                context.log.info(
                    f"{day}: chunks disagree on a service's category; normalized whole"
                )
                whole = normalize_day(
                    delta,
                    day,
                    catalog=catalog,
                    catalog_version=catalog_version,
                    base_currency=base,
                    tag_aliases=aliases,
                    aws_payer_account=payer,
                )
                result = streamed_from_whole(whole, spill.hold)
                del whole
            commit_day(day, result)

    def commit_day(day: dt.date, result: StreamedDay) -> None:
        if without := result.without_billing_account:
            context.log.warning(
                f"{day}: {without} rows without BillingAccountId (a FOCUS MUST): set "
                "FINOPS_AWS_PAYER_ACCOUNT_ID for Cost Explorer rows"
            )
        conserved = conservation_result(
            result.source_totals, result.rows_summary, result.quarantine
        )
        every_column, _ = money_conserved_result(
            day,
            result.source_summary,
            result.rows_summary,
            result.quarantine,
            result.twin_mismatches,
        )
        gross_net_table = markdown_table(gross_net_summary(result.rows_summary))

        def write() -> None:
            delta.write_day_stream(tables.NORMALIZED_COSTS, result.rows(), day)
            delta.write_day(
                tables.QUARANTINE, result.quarantine, day, scope={"x_source": "normalized_costs"}
            )

        writer.commit(
            day,
            {
                "check_normalized_contract": result.contract,
                "check_billed_cost_conserved": [] if conserved.passed else conserved.failures,
                "check_services_mapped": result.unmapped_services.to_dicts(),
                "check_money_conserved": CheckOutcome(every_column, {"gross_net": gross_net_table}),
                "check_rows_conserved": rows_conserved_result(day, result.row_counts),
                "check_quarantined_money": normalized_quarantine_result(
                    day, result.rows_summary, result.quarantine, limits
                ),
                "check_fx_rates_available": missing_rate_failures(result.quarantine, day),
            },
            write,
            content=fingerprints_version(
                [result.rows_fingerprint, frame_fingerprint(result.quarantine)], catalog_version
            ),
            metadata=_day_metadata(result, base, gross_net_table),
            lineage=result.lineage_version(),
        )

    yield from writer.run(one_day)


def _day_metadata(
    result: StreamedDay, base: str, gross_net_table: dg.MetadataValue
) -> dict[str, object]:
    """One normalized day for the UI: rows, quarantine, money by billing and base currency."""
    return {
        "rows": result.row_count,
        "quarantined_rows": result.quarantine.height,
        "base_currency": base,
        "money_billing_currency": money_table(
            result.rows_summary,
            ["BilledCost", "EffectiveCost"],
            "BillingCurrency",
            by=["x_provider"],
        ),
        "money_base_currency": money_table(
            result.rows_summary,
            ["x_billed_cost_base", "x_effective_cost_base"],
            base,
            by=["x_provider"],
        ),
        "gross_net": gross_net_table,
        **({"azure_export_datasets": result.azure_datasets} if result.azure_datasets else {}),
    }
