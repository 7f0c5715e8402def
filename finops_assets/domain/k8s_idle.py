"""Idle capacity of a Kubernetes cluster: node capacity the pods do not hold, and who pays it.

AWS split cost allocation for EKS
(https://docs.aws.amazon.com/cur/latest/userguide/example-split-cost-allocation-data.html)
charges each pod max(request, usage) and calls the rest of the instance unused. Here, per node,
interval and resource: idle = max(capacity - sum of the node's pods' max(request, usage), 0); an
overcommitted node has no idle, never a negative one. Node capacity repeats on every pod row of
the node and interval, so it is counted once per (cluster, node, interval_start). A day adds its
node-intervals; the cluster's pool of the day is taken to cost the same per weighted unit on
every node (the bill gives the cluster's cost, not each node's).

A day where some row lacks CPU or memory capacity (or a readable interval_start) has unknown
idle: idle_by_day says so (`known` false) and that day splits over the pods only, never a guess.
"""

import polars as pl

from finops_assets.domain.k8s_split import K8sSplit
from finops_assets.domain.money import MONEY

IDLE_NAMESPACE = "(idle)"  # not a valid namespace name (RFC 1123), so never a real namespace
IDLE_COLUMNS: dict[str, pl.DataType] = {
    "x_charge_date": pl.Date(),
    "cpu": MONEY,  # idle core-seconds
    "mem": MONEY,  # idle byte-seconds
    "gpu": MONEY,  # idle GPU-seconds
    "known": pl.Boolean(),  # false: some row of the day has no node capacity
}
_HELD = {
    "cpu": ("cpu_request_core_seconds", "cpu_usage_core_seconds", "node_capacity_cpu_core_seconds"),
    "mem": (
        "memory_request_byte_seconds",
        "memory_usage_byte_seconds",
        "node_capacity_memory_byte_seconds",
    ),
    "gpu": ("gpu_request_seconds", "gpu_usage_seconds", "node_capacity_gpu_seconds"),
}


def held_expressions(columns: dict[str, tuple[str, str]]) -> list[pl.Expr]:
    """name -> (request, usage) columns: each row's max(request, usage), a null read as 0."""
    zero = pl.lit(0).cast(MONEY)
    return [
        pl.max_horizontal(pl.coalesce(pl.col(req), zero), pl.coalesce(pl.col(use), zero))
        .cast(MONEY)
        .alias(name)
        for name, (req, use) in columns.items()
    ]


def idle_by_day(usage: pl.DataFrame) -> pl.DataFrame:
    """IDLE_COLUMNS per day: node capacity minus what pods hold, per resource, and if it is known."""
    if usage.is_empty():
        return pl.DataFrame(schema=IDLE_COLUMNS)
    missing = (
        pl.col("node_capacity_cpu_core_seconds").is_null()
        | pl.col("node_capacity_memory_byte_seconds").is_null()
        | pl.col("interval_start").is_null()
    )
    rows = usage.with_columns(
        missing.alias("_missing"),
        *held_expressions({f"_{n}_held": (req, use) for n, (req, use, _) in _HELD.items()}),
        *[
            pl.col(cap).fill_null(0).cast(MONEY).alias(f"_{n}_cap")
            for n, (*_, cap) in _HELD.items()
        ],
    )
    aggregated = rows.group_by("x_charge_date", "cluster", "node", "interval_start").agg(
        *[pl.col(f"_{n}_held").sum().cast(MONEY) for n in _HELD],
        *[pl.col(f"_{n}_cap").max() for n in _HELD],
        pl.col("_missing").any(),
    )
    idle = [
        (pl.col(f"_{n}_cap") - pl.col(f"_{n}_held")).clip(lower_bound=0).cast(MONEY).alias(n)
        for n in _HELD
    ]
    return (
        aggregated.select("x_charge_date", "_missing", *idle)
        .group_by("x_charge_date")
        .agg(
            *[pl.col(n).sum().cast(MONEY) for n in _HELD],
            (~pl.col("_missing").any()).alias("known"),
        )
        .select([pl.col(c).cast(t) for c, t in IDLE_COLUMNS.items()])
        .sort("x_charge_date")
    )


def with_idle_rows(
    per_namespace: pl.DataFrame, usage: pl.DataFrame, split: K8sSplit
) -> pl.DataFrame:
    """Per-namespace held amounts plus one IDLE_NAMESPACE row per day whose idle is known.

    The proportional policy adds nothing: idle that follows the pods' weights is the pods' split.
    """
    if split.idle == "proportional":
        return per_namespace
    idle = idle_by_day(usage).filter(pl.col("known"))
    rows = idle.select(
        "x_charge_date", pl.lit(IDLE_NAMESPACE).alias("namespace"), *per_namespace.columns[2:]
    )
    return pl.concat([per_namespace, rows.cast(per_namespace.schema)])  # type: ignore[arg-type]


def spread_idle(weights: pl.DataFrame, split: K8sSplit) -> pl.DataFrame:
    """The idle row's weight as the rule says: kept, even over the namespaces, or to named ones."""
    if split.idle in ("proportional", "keep"):
        return weights
    dtype = weights.schema["weight"]
    is_idle = pl.col("namespace") == IDLE_NAMESPACE
    idle = weights.filter(is_idle).select("x_charge_date", pl.col("weight").alias("_idle"))
    others = weights.filter(~is_idle)
    if split.idle == "namespaces":
        named = idle.select("x_charge_date").join(
            pl.DataFrame({"namespace": list(split.idle_namespaces)}), how="cross"
        )
        present = others.select("x_charge_date", pl.col("namespace").str.to_lowercase())
        missing = named.join(present, on=["x_charge_date", "namespace"], how="anti")
        others = pl.concat([others, missing.with_columns(pl.lit(0).cast(dtype).alias("weight"))])
        receives = pl.col("namespace").str.to_lowercase().is_in(list(split.idle_namespaces))
    else:
        receives = pl.col("namespace").is_not_null()
    count = receives.cast(pl.Int64).sum().over("x_charge_date").cast(dtype)
    part = pl.when(receives).then(pl.col("_idle").fill_null(0) / count).otherwise(0)
    return others.join(idle, on="x_charge_date", how="left").select(
        "x_charge_date",
        "namespace",
        (pl.col("weight") + part.cast(dtype)).cast(dtype).alias("weight"),
    )
