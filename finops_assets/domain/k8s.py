"""Kubernetes pod usage (koku/OpenShift CSV format) and the namespace weights it gives.

Every numeric column is read as text and parsed to Decimal; no float is involved. A blank pod
usage or request is 0 (koku leaves them blank for a pod without metrics or requests); text that
is not a number is an error naming file, line and column. Node capacity (koku's
node_capacity_cpu_core_seconds, node_capacity_memory_byte_seconds) is optional: blank or absent
is null, and idle for that day is unknown (k8s_idle). GPU columns (pod_usage_gpu_seconds,
pod_request_gpu_seconds, node_capacity_gpu_seconds: our names, koku's pod report has none) are
optional; absent or blank is 0 GPUs.
Namespace weight: each pod-interval counts max(request, usage) for CPU core-seconds, memory
byte-seconds and GPU-seconds, weighted as the rule's k8s options say (k8s_split: AWS's 9 per
core : 1 per GiB : 90 per GPU by default, or a blend of resource shares such as the demo's
0.5 CPU + 0.5 memory); idle capacity is then shared by the rule's idle policy (k8s_idle).
"""

from decimal import Decimal
from pathlib import PurePosixPath

import polars as pl

from finops_assets.domain.k8s_idle import (
    IDLE_NAMESPACE,
    held_expressions,
    spread_idle,
    with_idle_rows,
)
from finops_assets.domain.k8s_split import AWS_SPLIT, K8sSplit
from finops_assets.domain.money import MONEY, parse_money_expr
from finops_assets.domain.sources.common import SourceFormatError

SOURCE = "k8s_usage"
_GIB = 2**30  # AWS prices memory per GB-hour of instance memory (GiB in practice)
# The koku pod usage columns this parser reads (the file may hold more, e.g. limits, labels).
REQUIRED_COLUMNS = (
    "pod",
    "namespace",
    "node",
    "interval_start",
    "pod_usage_cpu_core_seconds",
    "pod_request_cpu_core_seconds",
    "pod_usage_memory_byte_seconds",
    "pod_request_memory_byte_seconds",
)
_NUMERIC = {
    "cpu_usage_core_seconds": "pod_usage_cpu_core_seconds",
    "cpu_request_core_seconds": "pod_request_cpu_core_seconds",
    "memory_usage_byte_seconds": "pod_usage_memory_byte_seconds",
    "memory_request_byte_seconds": "pod_request_memory_byte_seconds",
}
_OPTIONAL_ZERO = {  # absent or blank = 0
    "gpu_usage_seconds": "pod_usage_gpu_seconds",
    "gpu_request_seconds": "pod_request_gpu_seconds",
    "node_capacity_gpu_seconds": "node_capacity_gpu_seconds",
}
_OPTIONAL_NULL = {  # absent or blank = unknown
    "node_capacity_cpu_core_seconds": "node_capacity_cpu_core_seconds",
    "node_capacity_memory_byte_seconds": "node_capacity_memory_byte_seconds",
}

K8S_USAGE_COLUMNS: dict[str, pl.DataType] = {
    "x_charge_date": pl.Date(),  # UTC day of interval_start
    "cluster": pl.Utf8(),  # from the file name: <cluster>_pod_usage.csv
    "namespace": pl.Utf8(),
    "pod": pl.Utf8(),
    "node": pl.Utf8(),
    "cpu_usage_core_seconds": MONEY,
    "cpu_request_core_seconds": MONEY,
    "memory_usage_byte_seconds": MONEY,
    "memory_request_byte_seconds": MONEY,
    "x_source_file": pl.Utf8(),
    "x_source_line": pl.Int64(),
    # Added for idle and GPUs (older lakes read them as null: idle unknown, no GPUs).
    "interval_start": pl.Datetime("us", "UTC"),
    "gpu_usage_seconds": MONEY,
    "gpu_request_seconds": MONEY,
    "node_capacity_cpu_core_seconds": MONEY,
    "node_capacity_memory_byte_seconds": MONEY,
    "node_capacity_gpu_seconds": MONEY,
}

_HELD = {  # amount a pod holds: max(request, usage) of each resource
    "cpu": ("cpu_request_core_seconds", "cpu_usage_core_seconds"),
    "mem": ("memory_request_byte_seconds", "memory_usage_byte_seconds"),
    "gpu": ("gpu_request_seconds", "gpu_usage_seconds"),
}
WEIGHT = pl.Decimal(38, 18)
NAMESPACE_WEIGHT_COLUMNS: dict[str, pl.DataType] = {
    "x_charge_date": pl.Date(),
    "namespace": pl.Utf8(),
    "weight": WEIGHT,  # share of the day's cluster usage; sums to 1 per day (to rounding)
}


def cluster_from_file_name(source_file: str) -> str:
    """`<cluster>_pod_usage.csv` -> cluster; any other name -> its stem."""
    stem = PurePosixPath(source_file.replace("\\", "/")).name.rsplit(".", 1)[0]
    return stem.removesuffix("_pod_usage")


def parse_k8s_pod_usage(data: bytes, source_file: str) -> pl.DataFrame:
    """One koku pod usage CSV -> K8S_USAGE_COLUMNS, amounts as Decimal; bad input raises."""
    if not data.strip():
        return pl.DataFrame(schema=K8S_USAGE_COLUMNS)
    try:
        raw = pl.read_csv(data, infer_schema=False)
    except pl.exceptions.PolarsError as exc:
        raise SourceFormatError(f"{source_file}: not a CSV file: {exc}") from exc
    missing = [c for c in REQUIRED_COLUMNS if c not in raw.columns]
    if missing:
        raise SourceFormatError(f"{source_file}: not a pod usage file, missing columns {missing}")
    for source in (*_OPTIONAL_ZERO.values(), *_OPTIONAL_NULL.values()):
        if source not in raw.columns:
            raw = raw.with_columns(pl.lit(None, pl.Utf8).alias(source))
    frame = raw.with_row_index("x_source_line", offset=2).select(
        pl.col("interval_start")
        .str.strip_chars()
        .str.slice(0, 10)
        .str.to_date("%Y-%m-%d", strict=False)
        .alias("x_charge_date"),
        pl.lit(cluster_from_file_name(source_file)).alias("cluster"),
        pl.col("namespace").str.strip_chars(),
        pl.col("pod").str.strip_chars(),
        pl.col("node").str.strip_chars(),
        *[_blank_zero(source).alias(name) for name, source in _NUMERIC.items()],
        *[_blank_zero(source).alias(name) for name, source in _OPTIONAL_ZERO.items()],
        *[parse_money_expr(source).alias(name) for name, source in _OPTIONAL_NULL.items()],
        pl.lit(source_file).alias("x_source_file"),
        pl.col("x_source_line").cast(pl.Int64),
        _interval_start().alias("interval_start"),
    )
    _raise_on_bad_values(frame, raw, source_file)
    return frame.select([pl.col(c).cast(t) for c, t in K8S_USAGE_COLUMNS.items()])


def _blank(source: str) -> pl.Expr:
    return pl.col(source).is_null() | (pl.col(source).str.strip_chars() == "")


def _blank_zero(source: str) -> pl.Expr:
    """A blank cell is 0; text that is not a number stays null (reported as an error)."""
    return pl.when(_blank(source)).then(pl.lit(0).cast(MONEY)).otherwise(parse_money_expr(source))


def _interval_start() -> pl.Expr:
    """koku's `2023-08-21 00:00:00 +0000 UTC` (or ISO `T`) -> UTC datetime; else null."""
    text = pl.col("interval_start").str.strip_chars().str.replace("T", " ").str.slice(0, 19)
    return text.str.to_datetime(
        "%Y-%m-%d %H:%M:%S", strict=False, time_unit="us"
    ).dt.replace_time_zone("UTC")


def _raise_on_bad_values(frame: pl.DataFrame, raw: pl.DataFrame, source_file: str) -> None:
    checks = {"x_charge_date": "interval_start", "namespace": "namespace", **_NUMERIC}
    checks |= {**_OPTIONAL_ZERO, **_OPTIONAL_NULL}
    for column, source in checks.items():
        unread = pl.col(column).is_null() | (pl.col(column).cast(pl.Utf8) == "")
        bad = frame.with_columns(raw[source].alias("_raw")).filter(
            unread & ~(pl.col("_raw").is_null() | (pl.col("_raw").str.strip_chars() == ""))
            if source in _OPTIONAL_NULL.values()
            else unread
        )
        if bad.height:
            line = bad["x_source_line"][0]
            value = raw[source][line - 2]
            raise SourceFormatError(
                f"{source_file}: line {line}, column {source}: cannot read {value!r}"
            )


def namespace_weights(usage: pl.DataFrame, split: K8sSplit = AWS_SPLIT) -> pl.DataFrame:
    """Per day and namespace, its share of the cluster (k8s_split: AWS 9:1 by default).

    Each pod-interval counts max(request, usage) of CPU core-seconds, memory byte-seconds and
    GPU-seconds; idle capacity joins as its own row unless the rule shares it proportionally;
    shared namespaces are spread over the others (proportionally or evenly), then idle by policy.
    """
    if usage.is_empty():
        return pl.DataFrame(schema=NAMESPACE_WEIGHT_COLUMNS)
    per_namespace = (
        usage.with_columns(held_expressions(_HELD))
        .group_by("x_charge_date", "namespace")
        .agg([pl.col(name).sum().cast(MONEY) for name in _HELD])
    )
    per_namespace = with_idle_rows(per_namespace, usage, split)
    if split.basis == "shares":
        weight = _share_blend(per_namespace, split)
    else:
        weight = _resource_units(per_namespace, split)
    weighted = per_namespace.select(
        "x_charge_date", "namespace", weight.cast(WEIGHT).alias("weight")
    ).select([pl.col(c).cast(t) for c, t in NAMESPACE_WEIGHT_COLUMNS.items()])
    is_idle = pl.col("namespace") == IDLE_NAMESPACE
    pods = spread_shared_namespaces(weighted.filter(~is_idle), split)
    spread = spread_idle(pl.concat([pods, weighted.filter(is_idle)]), split)
    return spread.sort("x_charge_date", "namespace")


def _share_blend(per_namespace: pl.DataFrame, split: K8sSplit) -> pl.Expr:
    """cpu_w * CPU share + memory_w * memory share (weights normalized; one resource if alone).

    GPU joins the blend (gpu_weight) only when the frame holds GPU-seconds, so a cluster without
    GPUs keeps exactly the CPU and memory blend.
    """
    if per_namespace["gpu"].sum() > 0:
        return _share_blend_with_gpu(split)
    total = split.cpu + split.memory
    cpu_w = pl.lit((split.cpu / total).quantize(Decimal(1).scaleb(-18))).cast(WEIGHT)
    mem_w = pl.lit((split.memory / total).quantize(Decimal(1).scaleb(-18))).cast(WEIGHT)
    cpu_total = pl.col("cpu").sum().over("x_charge_date")
    mem_total = pl.col("mem").sum().over("x_charge_date")
    cpu_share = _share(pl.col("cpu"), cpu_total)
    mem_share = _share(pl.col("mem"), mem_total)
    return (
        pl.when((cpu_total > 0) & (mem_total > 0) & (split.cpu > 0) & (split.memory > 0))
        .then(cpu_share * cpu_w + mem_share * mem_w)
        .when((cpu_total > 0) & (split.cpu > 0))
        .then(cpu_share)
        .when((mem_total > 0) & (split.memory > 0))
        .then(mem_share)
        .otherwise(pl.lit(0).cast(WEIGHT))
    )


def _share_blend_with_gpu(split: K8sSplit) -> pl.Expr:
    """Sum of weight x share over the resources the day holds, over the sum of their weights."""
    parts, weights = [], []
    for name, w in (("cpu", split.cpu), ("mem", split.memory), ("gpu", split.gpu_weight)):
        total = pl.col(name).sum().over("x_charge_date")
        active = pl.when((total > 0) & (w > 0)).then(pl.lit(w).cast(WEIGHT)).otherwise(0)
        parts.append(_share(pl.col(name), total).fill_null(0) * active.cast(WEIGHT))
        weights.append(active.cast(WEIGHT))
    return _share(pl.sum_horizontal(parts).cast(WEIGHT), pl.sum_horizontal(weights)).fill_null(
        pl.lit(0).cast(WEIGHT)
    )


def _resource_units(per_namespace: pl.DataFrame, split: K8sSplit) -> pl.Expr:
    """cpu_w per core-second + memory_w per GiB-second + gpu_w per GPU-second, as a day share."""
    gib = pl.lit(Decimal(_GIB)).cast(WEIGHT)
    units = (
        pl.col("cpu").cast(WEIGHT) * pl.lit(split.cpu).cast(WEIGHT)
        + (pl.col("mem").cast(WEIGHT) / gib).cast(WEIGHT) * pl.lit(split.memory).cast(WEIGHT)
        + pl.col("gpu").cast(WEIGHT) * pl.lit(split.gpu_weight).cast(WEIGHT)
    )
    return _share(units, units.sum().over("x_charge_date")).fill_null(pl.lit(0).cast(WEIGHT))


def spread_shared_namespaces(weights: pl.DataFrame, split: K8sSplit) -> pl.DataFrame:
    """Shared namespaces' weight given to the day's other namespaces (proportional or even).

    A day with only shared namespaces keeps them (there is no one else to carry them).
    """
    if not split.shared_namespaces:
        return weights
    is_shared = pl.col("namespace").str.to_lowercase().is_in(list(split.shared_namespaces))
    frame = weights.with_columns(
        is_shared.alias("_shared"),
        pl.when(is_shared)
        .then(pl.col("weight"))
        .otherwise(0)
        .sum()
        .over("x_charge_date")
        .cast(WEIGHT)
        .alias("_pool"),
        (~is_shared).sum().over("x_charge_date").alias("_others"),
    )
    frame = frame.filter(~pl.col("_shared") | (pl.col("_others") == 0))
    if split.shared_split == "even":
        extra = pl.col("_pool") / pl.col("_others").cast(WEIGHT)
    else:
        own = pl.col("weight").sum().over("x_charge_date")
        extra = pl.col("_pool") * _share(pl.col("weight"), own).fill_null(0)
    added = pl.when(pl.col("_shared")).then(0).otherwise(extra.cast(WEIGHT))
    return frame.select(
        "x_charge_date", "namespace", (pl.col("weight") + added).cast(WEIGHT).alias("weight")
    )


def _share(part: pl.Expr, total: pl.Expr) -> pl.Expr:
    """part / total at scale 18 (null-safe when total is zero)."""
    safe_total = pl.when(total > 0).then(total).otherwise(None)
    return (part.cast(WEIGHT) / safe_total.cast(WEIGHT)).cast(WEIGHT)
