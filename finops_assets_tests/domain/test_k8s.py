"""Kubernetes pod usage parsing (koku format) and namespace weights."""

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from finops_assets.domain.k8s import (
    K8S_USAGE_COLUMNS,
    NAMESPACE_WEIGHT_COLUMNS,
    cluster_from_file_name,
    namespace_weights,
    parse_k8s_pod_usage,
)
from finops_assets.domain.k8s_split import K8sSplit
from finops_assets.domain.sources.common import SourceFormatError

KOKU_FILE = "koku/ocp/e6b3701e-1e91-433b-b238-a31e49937558_February-2019-my-ocp-cluster-1.csv"
HEADER = (
    "report_period_start,report_period_end,pod,namespace,node,resource_id,interval_start,"
    "interval_end,pod_usage_cpu_core_seconds,pod_request_cpu_core_seconds,"
    "pod_limit_cpu_core_seconds,pod_usage_memory_byte_seconds,pod_request_memory_byte_seconds,"
    "pod_limit_memory_byte_seconds,node_capacity_cpu_cores,node_capacity_cpu_core_seconds,"
    "node_capacity_memory_bytes,node_capacity_memory_byte_seconds,pod_labels\n"
)


def line(namespace: str, pod: str, cpu: str, cpu_req: str, mem: str, mem_req: str) -> str:
    start = "2026-11-01 03:00:00 +0000 UTC"
    return (
        f"p0,p1,{pod},{namespace},node-1,rid,{start},{start},{cpu},{cpu_req},0,{mem},{mem_req},"
        "0,2,7200,4194304,15099494400,app:x\n"
    )


def test_koku_sample_parses_exactly(shared_data) -> None:
    usage = parse_k8s_pod_usage((shared_data / KOKU_FILE).read_bytes(), KOKU_FILE)
    assert dict(usage.schema) == K8S_USAGE_COLUMNS
    assert usage.height == 480
    assert set(usage["namespace"]) == {"namespace_ci", "namespace_qa"}
    assert usage["x_charge_date"].min() == dt.date(2019, 2, 1)
    assert usage.null_count().sum_horizontal()[0] == 0
    first = usage.row(0, named=True)
    assert first["cpu_usage_core_seconds"] == Decimal("1172.88")
    assert first["memory_usage_byte_seconds"] == Decimal("482946476940")
    assert first["x_source_line"] == 2 and first["pod"] == "pod_name1"
    weights = namespace_weights(usage)
    totals = weights.group_by("x_charge_date").agg(pl.col("weight").sum())
    assert all(abs(t - 1) <= Decimal("1e-17") for t in totals["weight"])


def test_namespace_weights_use_max_of_request_and_usage() -> None:
    text = HEADER + line("a", "p1", "10", "30", "5", "0") + line("b", "p2", "10", "0", "1", "15")
    frame = parse_k8s_pod_usage(text.encode(), "gke-shared-prod_pod_usage.csv")
    weights = namespace_weights(frame, K8sSplit(Decimal(1), Decimal(1), "shares"))
    assert dict(weights.schema) == NAMESPACE_WEIGHT_COLUMNS
    # cpu: a 30, b 10 -> 0.75/0.25; memory: a 5, b 15 -> 0.25/0.75; combined 50/50.
    assert weights["weight"].to_list() == [Decimal("0.5"), Decimal("0.5")]
    assert weights["x_charge_date"].to_list() == [dt.date(2026, 11, 1)] * 2


def test_cluster_name_and_empty_inputs() -> None:
    assert cluster_from_file_name("landing/k8s_usage/2026-11-01/gke-shared-prod_pod_usage.csv") == (
        "gke-shared-prod"
    )
    assert parse_k8s_pod_usage(HEADER.encode(), "x.csv").is_empty()
    assert parse_k8s_pod_usage(b"", "x.csv").is_empty()
    assert namespace_weights(pl.DataFrame(schema=K8S_USAGE_COLUMNS)).is_empty()


def test_bad_files_raise_with_file_line_and_column() -> None:
    with pytest.raises(SourceFormatError, match="missing columns"):
        parse_k8s_pod_usage(b"a,b\n1,2\n", "wrong.csv")
    bad = HEADER + line("a", "p1", "10", "30", "5", "0") + line("b", "p2", "ten", "0", "1", "15")
    with pytest.raises(
        SourceFormatError, match="bad.csv: line 3, column pod_usage_cpu_core_seconds"
    ):
        parse_k8s_pod_usage(bad.encode(), "bad.csv")
