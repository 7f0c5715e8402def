"""Sample Kubernetes pod usage for the shared GKE cluster, in the koku/OpenShift report format.

One row per pod per hour. Pods run on the GKE nodes the GCP export writer bills; `resource_id`
is the node's Compute Engine instance name, the `resource.name` of those export rows.
"""

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl

from finops_assets.sample import estate
from finops_assets.sample.gcp_billing_export_writer import GKE_NODE_NAMES

SOURCE = "k8s_usage"
CHUNK_PODS = 10_000
HEADER = (
    "report_period_start,report_period_end,pod,namespace,node,resource_id,interval_start,"
    "interval_end,pod_usage_cpu_core_seconds,pod_request_cpu_core_seconds,"
    "pod_limit_cpu_core_seconds,pod_usage_memory_byte_seconds,pod_request_memory_byte_seconds,"
    "pod_limit_memory_byte_seconds,node_capacity_cpu_cores,node_capacity_cpu_core_seconds,"
    "node_capacity_memory_bytes,node_capacity_memory_byte_seconds,pod_labels"
)
NODE_CPU_CORES = 8
NODE_MEMORY_BYTES = 32 * 2**30
_REQUEST_MILLICORES = (250, 500, 1000, 2000)
_REQUEST_BYTES = (256 * 2**20, 512 * 2**20, 2**30, 2 * 2**30)
_TS = "%Y-%m-%d %H:%M:%S +0000 UTC"


def _millicore_seconds_text(millicores: pl.Expr) -> pl.Expr:
    """millicores held for an hour -> core-seconds as exact decimal text (one fraction digit)."""
    tenths = millicores * 36
    return pl.concat_str((tenths // 10).cast(pl.Utf8), pl.lit("."), (tenths % 10).cast(pl.Utf8))


def _pods(rng: np.random.Generator, first: int, count: int) -> pl.DataFrame:
    """Pods first..first+count: namespace, node and requests."""
    namespaces = list(estate.K8S_NAMESPACES)
    number = np.arange(first, first + count)
    namespace = number % len(namespaces)
    labels = [
        f"app:{ns}|team:{estate.K8S_NAMESPACES[ns] or 'platform'}|cluster:{estate.K8S_CLUSTER}"
        for ns in namespaces
    ]
    return pl.DataFrame(
        {
            "pod_no": number,
            "ns": namespace,
            "node_no": rng.integers(0, len(GKE_NODE_NAMES), count),
            "cpu": np.array(_REQUEST_MILLICORES)[rng.integers(0, 4, count)],
            "mem": np.array(_REQUEST_BYTES)[rng.integers(0, 4, count)],
        }
    ).with_columns(
        pl.lit(pl.Series(namespaces)).gather(pl.col("ns")).alias("namespace"),
        pl.lit(pl.Series(labels)).gather(pl.col("ns")).alias("pod_labels"),
        pl.lit(pl.Series(list(GKE_NODE_NAMES))).gather(pl.col("node_no")).alias("node"),
    )


def _chunk(rng: np.random.Generator, day: dt.date, pods: pl.DataFrame) -> pl.DataFrame:
    """Pods x 24 hourly intervals -> report rows in the koku column order."""
    hours = pl.DataFrame({"hour": np.arange(24)})
    rows = hours.join(pods, how="cross")
    n = rows.height
    rows = rows.with_columns(
        pl.Series("cpu_pct", rng.integers(5, 120, n)),
        pl.Series("mem_pct", rng.integers(20, 110, n)),
    )
    month = day.replace(day=1)
    next_month = (month + dt.timedelta(days=32)).replace(day=1)
    midnight = dt.datetime.combine(day, dt.time(), dt.UTC)
    hour_texts = pl.Series([(midnight + dt.timedelta(hours=h)).strftime(_TS) for h in range(25)])
    used_cpu = (pl.col("cpu") * pl.col("cpu_pct") // 100).clip(upper_bound=pl.col("cpu") * 2)
    used_mem = (pl.col("mem") * pl.col("mem_pct") // 100).clip(upper_bound=pl.col("mem") * 2)
    return rows.select(
        pl.lit(dt.datetime.combine(month, dt.time()).strftime(_TS)).alias("report_period_start"),
        pl.lit(dt.datetime.combine(next_month, dt.time()).strftime(_TS)).alias("report_period_end"),
        pl.concat_str(pl.col("namespace"), pl.lit("-"), pl.col("pod_no").cast(pl.Utf8)).alias(
            "pod"
        ),
        pl.col("namespace"),
        pl.col("node"),
        pl.col("node").alias("resource_id"),
        pl.lit(hour_texts).gather(pl.col("hour")).alias("interval_start"),
        pl.lit(hour_texts).gather(pl.col("hour") + 1).alias("interval_end"),
        _millicore_seconds_text(used_cpu).alias("pod_usage_cpu_core_seconds"),
        _millicore_seconds_text(pl.col("cpu")).alias("pod_request_cpu_core_seconds"),
        _millicore_seconds_text(pl.col("cpu") * 2).alias("pod_limit_cpu_core_seconds"),
        (used_mem * 3600).cast(pl.Utf8).alias("pod_usage_memory_byte_seconds"),
        (pl.col("mem") * 3600).cast(pl.Utf8).alias("pod_request_memory_byte_seconds"),
        (pl.col("mem") * 7200).cast(pl.Utf8).alias("pod_limit_memory_byte_seconds"),
        pl.lit(str(NODE_CPU_CORES)).alias("node_capacity_cpu_cores"),
        pl.lit(str(NODE_CPU_CORES * 3600)).alias("node_capacity_cpu_core_seconds"),
        pl.lit(str(NODE_MEMORY_BYTES)).alias("node_capacity_memory_bytes"),
        pl.lit(str(NODE_MEMORY_BYTES * 3600)).alias("node_capacity_memory_byte_seconds"),
        pl.col("pod_labels"),
    )


def write_day(landing_dir: Path, day: dt.date, seed: int, rows_per_day: int) -> list[Path]:
    """Write one day of hourly pod usage: rows_per_day // 24 pods (at least one per namespace)."""
    folder = landing_dir / SOURCE / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{estate.K8S_CLUSTER}_pod_usage.csv"
    pods = max(len(estate.K8S_NAMESPACES), rows_per_day // 24)
    with path.open("wb") as out:
        out.write((HEADER + "\n").encode())
        for number, first in enumerate(range(0, pods, CHUNK_PODS)):
            rng = np.random.default_rng([seed, day.toordinal(), number])
            chunk = _chunk(rng, day, _pods(rng, first, min(CHUNK_PODS, pods - first)))
            chunk.write_csv(out, include_header=False)
    return [path]
