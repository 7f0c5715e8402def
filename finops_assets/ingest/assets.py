"""Raw assets: one daily-partitioned, Delta-backed asset per billing source."""

import datetime as dt
from collections.abc import Iterator
from types import ModuleType

import dagster as dg
from dagster import AssetExecutionContext

from finops_assets.concurrency import writer_pool
from finops_assets.day_writer import DayEvent, DayWriter
from finops_assets.domain.quarantine import QuarantineLimits
from finops_assets.ingest import pipeline
from finops_assets.ingest.checks import quarantine_limits_result
from finops_assets.ingest.pipeline import DayStream, ParseCache
from finops_assets.ingest.streamed_ingest import StreamedRawDay
from finops_assets.metadata import money_table
from finops_assets.partitions import SINGLE_RUN, daily_partitions
from finops_assets.resources.lake import LakeResource, LandingResource
from finops_assets.storage import tables

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
    """The `<source>_raw` asset: archive, parse and store one source's payloads per charge day.

    A large file is parsed, checked and written in batches (streamed_ingest), in bounded memory.
    """
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
            dg.AssetCheckSpec(
                "check_raw_contract",
                asset=key,
                blocking=True,
                partitions_def=daily_partitions,
                description="Typed provider columns with ingestion key and source file on "
                "every row; a day that fails is not written.",
            ),
            dg.AssetCheckSpec(
                "check_quarantined_money",
                asset=key,
                blocking=True,
                partitions_def=daily_partitions,
                description="Per currency, the money sent to quarantine stays under the "
                "configured share of the day's billed money (FINOPS_QUARANTINE_MAX_SHARE).",
            ),
        ],
    )
    def raw_asset(
        context: AssetExecutionContext, lake: LakeResource, landing: LandingResource
    ) -> Iterator[DayEvent]:
        delta, archive = lake.delta(), lake.archive()
        limits = QuarantineLimits.from_settings(lake.settings())
        payloads, writer = landing.payloads(source.SOURCE), DayWriter(context)
        cache: ParseCache = {}  # a billing-period file is parsed once per run, not once per day

        def one_day(day: dt.date) -> None:
            stream = DayStream(source, payloads.fetch(source.SOURCE, day), day, archive, cache)
            with StreamedRawDay(source, contract, stream, pipeline.BATCH_ROWS) as ingested:
                commit_day(ingested)

        def commit_day(ingested: StreamedRawDay) -> None:
            day, files = ingested.day, len(ingested.stream.payloads)

            def write() -> None:
                ingested.write(delta)
                delta.write_day(
                    tables.QUARANTINE, ingested.quarantine, day, scope={"x_source": source.SOURCE}
                )

            refused = ingested.stream.refused
            writer.commit(
                day,
                {
                    "check_raw_contract": ingested.contract_result(),
                    "check_quarantined_money": quarantine_limits_result(
                        source,
                        ingested.kept_money(),
                        ingested.quarantine,
                        refused,
                        files,
                        day,
                        limits,
                    ),
                },
                write,
                content=ingested.data_version(),
                metadata={
                    "rows": ingested.row_count,
                    "quarantined_rows": ingested.quarantine.height,
                    "payloads": files,
                    "duplicates_skipped": len(ingested.stream.duplicates),
                    "billed": money_table(ingested.billed(), ["amount"], "currency"),
                },
            )

        yield from writer.run(one_day)

    return raw_asset
