"""k8s_usage_raw: Kubernetes pod usage per namespace, the driver for splitting cluster cost."""

import datetime as dt
from collections.abc import Iterator

import dagster as dg
import polars as pl
from dagster import AssetExecutionContext

from finops_assets.concurrency import writer_pool
from finops_assets.day_writer import DayEvent, DayWriter
from finops_assets.domain.k8s import K8S_USAGE_COLUMNS, SOURCE, parse_k8s_pod_usage
from finops_assets.ingest.checks import K8S_USAGE_SCHEMA
from finops_assets.partitions import SINGLE_RUN, daily_partitions
from finops_assets.resources.lake import LakeResource, LandingResource
from finops_assets.storage import tables
from finops_assets.storage.validation import validate_frame


@dg.asset(
    pool=writer_pool("k8s_usage_raw"),
    group_name="ingest",
    partitions_def=daily_partitions,
    backfill_policy=SINGLE_RUN,
    kinds={"delta", "polars"},
    check_specs=[
        dg.AssetCheckSpec(
            "check_k8s_usage_contract",
            asset="k8s_usage_raw",
            blocking=True,
            partitions_def=daily_partitions,
            description="Typed usage rows naming cluster, namespace and pod, with no negative "
            "usage or request.",
        )
    ],
)
def k8s_usage_raw(
    context: AssetExecutionContext, lake: LakeResource, landing: LandingResource
) -> Iterator[DayEvent]:
    """Pod CPU and memory usage and requests per hour, as the cluster's metering exported them."""
    delta, archive, payloads = lake.delta(), lake.archive(), landing.payloads(SOURCE)
    writer = DayWriter(context)

    def one_day(day: dt.date) -> None:
        frames = []
        for payload in payloads.fetch(SOURCE, day):
            archive.store(SOURCE, day, payload.name, payload.data)
            frames.append(parse_k8s_pod_usage(payload.data, payload.name))
        usage = pl.concat(frames) if frames else pl.DataFrame(schema=K8S_USAGE_COLUMNS)
        outcome = validate_frame(K8S_USAGE_SCHEMA, usage)
        writer.commit(
            day,
            {"check_k8s_usage_contract": outcome},
            lambda: delta.write_day(tables.K8S_USAGE_RAW, usage, day),
            content=[usage],
            metadata={
                "rows": usage.height,
                "files": len(frames),
                "namespaces": usage["namespace"].n_unique() if usage.height else 0,
            },
        )

    yield from writer.run(one_day)
