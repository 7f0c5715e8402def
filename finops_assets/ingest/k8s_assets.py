"""k8s_usage_raw: Kubernetes pod usage per namespace, the driver for splitting cluster cost."""

import dagster as dg
import polars as pl
from dagster import AssetExecutionContext

from finops_assets.concurrency import writer_pool
from finops_assets.domain.k8s import K8S_USAGE_COLUMNS, SOURCE, parse_k8s_pod_usage
from finops_assets.ingest.assets import SINGLE_RUN
from finops_assets.ingest.checks import K8S_USAGE_SCHEMA
from finops_assets.metadata import check_result
from finops_assets.partitions import daily_partitions, partition_days
from finops_assets.resources.lake import LakeResource, LandingResource
from finops_assets.storage import tables
from finops_assets.storage.validation import validate_frame


@dg.asset(
    group_name="ingest",
    pool=writer_pool("k8s_usage_raw"),
    partitions_def=daily_partitions,
    backfill_policy=SINGLE_RUN,
    kinds={"delta", "polars"},
    check_specs=[
        dg.AssetCheckSpec("check_k8s_usage_contract", asset="k8s_usage_raw", blocking=True)
    ],
)
def k8s_usage_raw(
    context: AssetExecutionContext, lake: LakeResource, landing: LandingResource
) -> dg.MaterializeResult:
    """Pod CPU and memory usage and requests per hour, as the cluster's metering exported them."""
    delta, archive, payloads = lake.delta(), lake.archive(), landing.payloads(SOURCE)
    rows, failures = 0, []
    for day in partition_days(context):
        frames = []
        for payload in payloads.fetch(SOURCE, day):
            archive.store(SOURCE, day, payload.name, payload.data)
            frames.append(parse_k8s_pod_usage(payload.data, payload.name))
        usage = pl.concat(frames) if frames else pl.DataFrame(schema=K8S_USAGE_COLUMNS)
        outcome = validate_frame(K8S_USAGE_SCHEMA, usage)
        if not outcome.passed:
            failures += [{"day": day.isoformat(), **f} for f in outcome.failures]
            continue
        delta.write_day(tables.K8S_USAGE_RAW, usage, day)
        rows += usage.height
    return dg.MaterializeResult(
        metadata={"rows": rows},
        check_results=[check_result("check_k8s_usage_contract", failures)],
    )
