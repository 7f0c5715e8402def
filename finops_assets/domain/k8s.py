"""Kubernetes pod usage (koku/OpenShift CSV format) and the namespace weights it gives.

Every numeric column is read as text and parsed to Decimal; no float is involved.
Namespace weight, as OpenCost does it: each pod-interval counts max(request, usage) for CPU
core-seconds and for memory byte-seconds; a namespace's weight for a day is
0.5 * its CPU share + 0.5 * its memory share (equal cost weights for CPU and memory, since the
cluster's node prices are not split by resource in the billing data).
"""

from decimal import Decimal
from pathlib import PurePosixPath

import polars as pl

from finops_assets.domain.money import MONEY, parse_money_expr
from finops_assets.domain.sources.common import SourceFormatError

SOURCE = "k8s_usage"
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
        *[parse_money_expr(source).alias(name) for name, source in _NUMERIC.items()],
        pl.lit(source_file).alias("x_source_file"),
        pl.col("x_source_line").cast(pl.Int64),
    )
    _raise_on_bad_values(frame, raw, source_file)
    return frame.select([pl.col(c).cast(t) for c, t in K8S_USAGE_COLUMNS.items()])


def _raise_on_bad_values(frame: pl.DataFrame, raw: pl.DataFrame, source_file: str) -> None:
    checks = {"x_charge_date": "interval_start", "namespace": "namespace", **_NUMERIC}
    for column, source in checks.items():
        bad = frame.filter(pl.col(column).is_null() | (pl.col(column).cast(pl.Utf8) == ""))
        if bad.height:
            line = bad["x_source_line"][0]
            value = raw[source][line - 2]
            raise SourceFormatError(
                f"{source_file}: line {line}, column {source}: cannot read {value!r}"
            )


def namespace_weights(usage: pl.DataFrame) -> pl.DataFrame:
    """Per day and namespace: 0.5 * CPU share + 0.5 * memory share of max(request, usage)."""
    if usage.is_empty():
        return pl.DataFrame(schema=NAMESPACE_WEIGHT_COLUMNS)
    per_namespace = (
        usage.group_by("x_charge_date", "namespace")
        .agg(
            pl.max_horizontal("cpu_request_core_seconds", "cpu_usage_core_seconds")
            .sum()
            .cast(MONEY)
            .alias("cpu"),
            pl.max_horizontal("memory_request_byte_seconds", "memory_usage_byte_seconds")
            .sum()
            .cast(MONEY)
            .alias("mem"),
        )
        .with_columns(
            pl.col("cpu").sum().over("x_charge_date").alias("cpu_total"),
            pl.col("mem").sum().over("x_charge_date").alias("mem_total"),
        )
    )
    half = pl.lit(Decimal("0.5")).cast(WEIGHT)
    cpu_share = _share(pl.col("cpu"), pl.col("cpu_total"))
    mem_share = _share(pl.col("mem"), pl.col("mem_total"))
    weight = (
        pl.when((pl.col("cpu_total") > 0) & (pl.col("mem_total") > 0))
        .then(cpu_share * half + mem_share * half)
        .when(pl.col("cpu_total") > 0)
        .then(cpu_share)
        .when(pl.col("mem_total") > 0)
        .then(mem_share)
        .otherwise(pl.lit(0).cast(WEIGHT))
    )
    return (
        per_namespace.select("x_charge_date", "namespace", weight.cast(WEIGHT).alias("weight"))
        .sort("x_charge_date", "namespace")
        .select([pl.col(c).cast(t) for c, t in NAMESPACE_WEIGHT_COLUMNS.items()])
    )


def _share(part: pl.Expr, total: pl.Expr) -> pl.Expr:
    """part / total at scale 18 (null-safe when total is zero)."""
    safe_total = pl.when(total > 0).then(total).otherwise(None)
    return (part.cast(WEIGHT) / safe_total.cast(WEIGHT)).cast(WEIGHT)
