"""Raw assets: one daily-partitioned, Delta-backed asset per billing source."""

from types import ModuleType

import dagster as dg
from dagster import AssetExecutionContext

from finops_assets.concurrency import writer_pool
from finops_assets.ingest.checks import quarantine_threshold_result, raw_contract_result
from finops_assets.ingest.pipeline import ParseCache, ingest_payloads
from finops_assets.metadata import markdown_table
from finops_assets.partitions import daily_partitions, partition_days
from finops_assets.resources.lake import LakeResource, LandingResource
from finops_assets.storage import tables

SINGLE_RUN = dg.BackfillPolicy.single_run()
# Sources read from a rate-limited provider API: their raw step holds a slot of the provider's
# Dagster concurrency pool, so the number of callers is capped across every run of the instance
# (`dagster instance concurrency set <pool> <limit>`; default in deploy/dagster/dagster.yaml).
# That pool also makes it the one writer of its table; every other raw asset holds its table's
# writer pool (finops_assets.concurrency).
API_POOLS = {
    "aws_cost_explorer": "aws_cost_explorer_api",
    "azure_cost": "azure_cost_management_api",
}


def build_raw_asset(source: ModuleType) -> dg.AssetsDefinition:
    """The `<source>_raw` asset: archive, parse and store one source's payloads per charge day."""
    contract = tables.raw_contract(source)
    key = dg.AssetKey(contract.name)

    @dg.asset(
        name=contract.name,
        group_name="ingest",
        partitions_def=daily_partitions,
        backfill_policy=SINGLE_RUN,
        pool=API_POOLS.get(source.SOURCE) or writer_pool(contract.name),
        kinds={"delta", "polars"},
        description=f"Raw {source.SOURCE} billing rows, typed, with ingestion metadata; "
        "every payload archived byte for byte before parsing.",
        check_specs=[
            dg.AssetCheckSpec("check_raw_contract", asset=key, blocking=True),
            dg.AssetCheckSpec("check_quarantined_money", asset=key, blocking=True),
        ],
    )
    def raw_asset(
        context: AssetExecutionContext, lake: LakeResource, landing: LandingResource
    ) -> dg.MaterializeResult:
        delta, archive = lake.delta(), lake.archive()
        payloads = landing.payloads(source.SOURCE)
        per_day, failed = [], []
        contract_failures, quarantined = [], []
        cache: ParseCache = {}  # a billing-period file is parsed once per run, not once per day
        for day in partition_days(context):
            fetched = payloads.fetch(source.SOURCE, day)
            ingested = ingest_payloads(source, fetched, day, archive, cache)
            contract_check = raw_contract_result(contract, ingested.parsed_rows, day)
            threshold_check = quarantine_threshold_result(source, ingested, day)
            if not contract_check.passed or not threshold_check.passed:
                failed.append(day.isoformat())
                contract_failures += contract_check.failures
                quarantined += threshold_check.failures
                continue
            version = delta.write_day(contract, ingested.rows, day)
            delta.write_day(
                tables.QUARANTINE, ingested.quarantine, day, scope={"x_source": source.SOURCE}
            )
            per_day.append(_day_summary(day, ingested, version))
        return dg.MaterializeResult(
            metadata=_metadata(per_day, failed),
            check_results=[
                dg.AssetCheckResult(
                    check_name="check_raw_contract",
                    passed=not contract_failures,
                    metadata={"failures": dg.MetadataValue.json(contract_failures[:20])},
                ),
                dg.AssetCheckResult(
                    check_name="check_quarantined_money",
                    passed=not quarantined,
                    metadata={"failures": dg.MetadataValue.json(quarantined[:20])},
                ),
            ],
        )

    return raw_asset


def _day_summary(day, ingested, version: int) -> dict:
    return {
        "day": day.isoformat(),
        "payloads": len(ingested.payload_names),
        "duplicates_skipped": len(ingested.duplicates),
        "rows": ingested.rows.height,
        "quarantined": ingested.quarantine.height,
        "delta_version": version,
    }


def _metadata(per_day: list[dict], failed: list[str]) -> dict:
    rows = sum(d["rows"] for d in per_day)
    meta: dict = {
        "rows": rows,
        "quarantined_rows": sum(d["quarantined"] for d in per_day),
        "payloads": sum(d["payloads"] for d in per_day),
        "days_written": len(per_day),
        "per_day": markdown_table(per_day),
    }
    if failed:
        meta["days_not_written"] = dg.MetadataValue.json(failed)
    return meta
