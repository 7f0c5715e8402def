"""Kubernetes idle capacity as its own line, idle policies, GPU weights (AWS split cost method)."""

import csv
import datetime as dt
from decimal import Decimal as D

import polars as pl
import pytest

from finops_assets.domain.k8s import namespace_weights, parse_k8s_pod_usage
from finops_assets.domain.k8s_idle import IDLE_NAMESPACE, idle_by_day
from finops_assets.domain.k8s_split import AWS_SPLIT, K8sSplit, parse_k8s_split
from finops_assets.domain.sources.common import SourceFormatError

GIB = 2**30
HEADER = (
    "pod,namespace,node,interval_start,pod_usage_cpu_core_seconds,pod_request_cpu_core_seconds,"
    "pod_usage_memory_byte_seconds,pod_request_memory_byte_seconds,"
    "node_capacity_cpu_core_seconds,node_capacity_memory_byte_seconds"
)
GPU_HEADER = HEADER + ",pod_usage_gpu_seconds,pod_request_gpu_seconds,node_capacity_gpu_seconds"
HOUR0 = "2026-11-01 00:00:00 +0000 UTC"
HOUR1 = "2026-11-01 01:00:00 +0000 UTC"
# The real single-node OpenShift cluster report (koku-metrics-operator, 2023-08-21, 18 hours).
CRC_FILE = "koku/ocp/39f765bc-4f7a-4f80-83ad-8a515e422e00_openshift_usage_report.2.csv"


def frame(lines: list[str], header: str = HEADER) -> pl.DataFrame:
    return parse_k8s_pod_usage("\n".join([header, *lines]).encode(), "c_pod_usage.csv")


def weights(result: pl.DataFrame) -> dict[str, D]:
    return {ns: w for _, ns, w in result.rows()}


# One node of 10 cores and 10 GiB for an hour (36,000 core-s, 36,000 GiB-s); pods hold
# a: 9,000 core-s, b: 9,000 core-s, no memory. Units (9:1): capacity 36,000*9 + 36,000 = 360,000;
# a 81,000, b 81,000, idle 360,000 - 162,000 = 198,000 -> 0.225 / 0.225 / 0.55.
CAP = f"{36_000},{36_000 * GIB}"
TWO_PODS = [
    f"p1,a,n1,{HOUR0},9000,0,0,0,{CAP}",
    f"p2,b,n1,{HOUR0},0,9000,0,0,{CAP}",
]


def test_idle_is_node_capacity_minus_max_of_request_and_usage() -> None:
    idle = idle_by_day(frame(TWO_PODS))
    row = idle.row(0, named=True)
    assert row["cpu"] == D(36_000 - 18_000) and row["mem"] == D(36_000 * GIB)
    assert row["known"] is True
    keep = K8sSplit(idle="keep", idle_unit="idle")
    assert weights(namespace_weights(frame(TWO_PODS), keep)) == {
        IDLE_NAMESPACE: D("0.55"),
        "a": D("0.225"),
        "b": D("0.225"),
    }


def test_idle_policies_proportional_even_and_named_namespaces() -> None:
    lines = [
        f"p1,a,n1,{HOUR0},27000,0,0,0,{CAP}",  # a 243,000 units
        f"p2,b,n1,{HOUR0},0,9000,0,0,{CAP}",  # b 81,000 units; idle 36,000 units (0.1)
    ]
    usage = frame(lines)
    assert weights(namespace_weights(usage)) == {"a": D("0.75"), "b": D("0.25")}
    even = namespace_weights(usage, K8sSplit(idle="even"))
    assert weights(even) == {"a": D("0.675") + D("0.05"), "b": D("0.225") + D("0.05")}
    named = namespace_weights(usage, K8sSplit(idle_namespaces=("b",), idle="namespaces"))
    assert weights(named) == {"a": D("0.675"), "b": D("0.325")}


def test_capacity_is_counted_once_per_node_and_interval_and_overcommit_gives_no_idle() -> None:
    lines = [
        *TWO_PODS,
        f"p1,a,n1,{HOUR1},40000,0,0,0,{CAP}",  # over the node's 36,000: no CPU idle that hour
    ]
    row = idle_by_day(frame(lines)).row(0, named=True)
    assert row["cpu"] == D(18_000)  # hour 0 only; hour 1 is clamped at 0, not negative
    assert row["mem"] == D(2 * 36_000 * GIB)


def test_missing_capacity_is_unknown_idle_never_guessed() -> None:
    lines = [f"p1,a,n1,{HOUR0},9000,0,0,0,,", f"p2,b,n1,{HOUR0},0,9000,0,0,{CAP}"]
    usage = frame(lines)
    idle = idle_by_day(usage)
    assert idle["known"].to_list() == [False]
    keep = namespace_weights(usage, K8sSplit(idle="keep", idle_unit="idle"))
    assert weights(keep) == {"a": D("0.5"), "b": D("0.5")}  # pods only, no idle row
    no_columns = "pod,namespace,node,interval_start,pod_usage_cpu_core_seconds," + (
        "pod_request_cpu_core_seconds,pod_usage_memory_byte_seconds,pod_request_memory_byte_seconds"
    )
    old = frame([f"p1,a,n1,{HOUR0},9000,0,0,0"], no_columns)
    assert idle_by_day(old)["known"].to_list() == [False]


def test_gpu_weighs_nine_to_one_against_cpu_plus_memory() -> None:
    # a: 1 GPU-hour (3,600 GPU-s); b: 10 cores (36,000 core-s) and 10 GiB (36,000 GiB-s).
    # AWS: GPU 9 : CPU+memory 1, CPU:memory 9:1 -> 90 : 9 : 1 per GPU-s, core-s, GiB-s.
    # a 3,600*90 = 324,000; b 36,000*9 + 36,000 = 360,000.
    lines = [
        f"p1,a,n1,{HOUR0},0,0,0,0,{CAP},3600,3600,7200",
        f"p2,b,n1,{HOUR0},36000,0,{36_000 * GIB},0,{CAP},0,0,7200",
    ]
    usage = frame(lines, GPU_HEADER)
    assert AWS_SPLIT.gpu_weight == D(90)
    got = weights(namespace_weights(usage))
    assert abs(got["a"] - D(324_000) / D(684_000)) <= D("1e-17")
    assert abs(got["b"] - D(360_000) / D(684_000)) <= D("1e-17")
    # Idle GPU: 3,600 GPU-s unused -> 324,000 units of 1,008,000.
    keep = weights(namespace_weights(usage, K8sSplit(idle="keep", idle_unit="idle")))
    assert abs(keep[IDLE_NAMESPACE] - D(324_000) / D(1_008_000)) <= D("1e-17")
    custom = parse_k8s_split({"weights": {"cpu": 1, "memory": 1, "gpu": 0}})
    assert weights(namespace_weights(usage, custom)) == {"a": D(0), "b": D(1)}
    assert parse_k8s_split({"weights": {"cpu": 1, "memory": 1}}).gpu_weight == D(18)


def test_idle_options_parse_strictly() -> None:
    assert parse_k8s_split({"idle": "even"}).idle == "even"
    assert parse_k8s_split({"idle": "keep"}).idle_unit == "idle"
    kept = parse_k8s_split({"idle": {"keep": "platform-idle"}})
    assert (kept.idle, kept.idle_unit) == ("keep", "platform-idle")
    named = parse_k8s_split({"idle": {"namespaces": ["Platform"]}})
    assert (named.idle, named.idle_namespaces) == ("namespaces", ("platform",))
    for bad, message in [
        ({"idle": "spread"}, "k8s.idle"),
        ({"idle": {"namespaces": []}}, "k8s.idle"),
        ({"idle": {"keep": ""}}, "k8s.idle"),
        ({"weights": {"gpu": -1}}, "k8s.weights.gpu"),
    ]:
        with pytest.raises(ValueError, match=message):
            parse_k8s_split(bad)


def _held_by_hand(path) -> tuple[D, D]:
    """Capacity minus pods' max(request, usage) per hour, summed, with csv and Decimal only."""
    cpu_idle, mem_idle, hours = D(0), D(0), {}
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            hour = hours.setdefault(
                (row["node"], row["interval_start"]),
                [
                    D(row["node_capacity_cpu_core_seconds"]),
                    D(row["node_capacity_memory_byte_seconds"]),
                ],
            )
            hour[0] -= max(
                D(row["pod_request_cpu_core_seconds"] or 0),
                D(row["pod_usage_cpu_core_seconds"] or 0),
            )
            hour[1] -= max(
                D(row["pod_request_memory_byte_seconds"] or 0),
                D(row["pod_usage_memory_byte_seconds"] or 0),
            )
    for cpu, mem in hours.values():
        cpu_idle += max(cpu, D(0))
        mem_idle += max(mem, D(0))
    return cpu_idle, mem_idle


def test_real_openshift_report_has_idle_and_every_policy_sums_to_one(shared_data) -> None:
    usage = parse_k8s_pod_usage((shared_data / CRC_FILE).read_bytes(), CRC_FILE)
    assert usage.height == 1739
    assert usage["interval_start"].n_unique() == 18 and usage["interval_start"].null_count() == 0
    idle = idle_by_day(usage).row(0, named=True)
    assert idle["x_charge_date"] == dt.date(2023, 8, 21) and idle["known"] is True
    # 18 hours of one 10-core node (648,000 core-s): pods hold about 27 %, idle 474,942.94 core-s.
    assert (idle["cpu"], idle["mem"]) == _held_by_hand(shared_data / CRC_FILE)
    assert idle["cpu"] == D("474942.944848") and idle["mem"] == D(509408908984320)
    keep = weights(namespace_weights(usage, K8sSplit(idle="keep", idle_unit="idle")))
    assert keep[IDLE_NAMESPACE].quantize(D("0.0001")) == D("0.6461")  # 9:1 units
    for split in (
        AWS_SPLIT,
        K8sSplit(idle="even"),
        K8sSplit(idle="keep", idle_unit="idle"),
        K8sSplit(idle="namespaces", idle_namespaces=("openshift-monitoring",)),
        K8sSplit(D(1), D(1), "shares", idle="keep", idle_unit="idle"),
        K8sSplit(shared_namespaces=("openshift-monitoring",), idle="keep", idle_unit="idle"),
    ):
        total = namespace_weights(usage, split)["weight"].sum()
        assert abs(total - 1) <= D("1e-15"), split


def test_blank_pod_cells_are_zero_but_unreadable_capacity_is_an_error() -> None:
    blanks = frame([f"p1,a,n1,{HOUR0},,,,,{CAP}"])
    assert blanks.select("cpu_usage_core_seconds", "memory_request_byte_seconds").row(0) == (0, 0)
    with pytest.raises(
        SourceFormatError, match="c_pod_usage.csv: line 2, column node_capacity_cpu_core_seconds"
    ):
        frame([f"p1,a,n1,{HOUR0},1,1,1,1,ten,{36_000 * GIB}"])
    with pytest.raises(SourceFormatError, match="line 2, column pod_request_gpu_seconds"):
        frame([f"p1,a,n1,{HOUR0},0,0,0,0,{CAP},1,x,2"], GPU_HEADER)


def test_named_idle_namespaces_match_case_insensitively_and_may_be_absent() -> None:
    lines = [f"p1,Team-A,n1,{HOUR0},27000,0,0,0,{CAP}", f"p2,b,n1,{HOUR0},0,9000,0,0,{CAP}"]
    split = parse_k8s_split({"idle": {"namespaces": ["team-a", "platform"]}})
    got = weights(namespace_weights(frame(lines), split))
    # idle 0.1 in equal parts to Team-A (present) and platform (no pods that day).
    assert got == {"Team-A": D("0.725"), "b": D("0.225"), "platform": D("0.05")}
