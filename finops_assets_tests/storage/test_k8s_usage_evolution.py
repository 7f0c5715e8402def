"""k8s_usage_raw gained node capacity, interval_start and GPU columns: an older lake keeps working.

A day written before the columns existed reads them as null; its idle is unknown (reported,
not guessed) and its split over the pods is the same as before.
"""

import dataclasses
import datetime as dt
from decimal import Decimal

from finops_assets.domain.k8s import K8S_USAGE_COLUMNS, namespace_weights, parse_k8s_pod_usage
from finops_assets.domain.k8s_idle import idle_by_day
from finops_assets.domain.k8s_split import K8sSplit
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake
from finops_assets_tests.domain.test_k8s_idle import CAP, HEADER

ADDED = (
    "interval_start",
    "gpu_usage_seconds",
    "gpu_request_seconds",
    "node_capacity_cpu_core_seconds",
    "node_capacity_memory_byte_seconds",
    "node_capacity_gpu_seconds",
)
OLD = dataclasses.replace(
    tables.K8S_USAGE_RAW, columns={c: t for c, t in K8S_USAGE_COLUMNS.items() if c not in ADDED}
)
DAY1, DAY2 = dt.date(2026, 11, 1), dt.date(2026, 11, 2)


def usage(day: dt.date):
    lines = [
        f"p1,a,n1,{day} 00:00:00 +0000 UTC,9000,0,0,0,{CAP}",
        f"p2,b,n1,{day} 00:00:00 +0000 UTC,0,27000,0,0,{CAP}",
    ]
    return parse_k8s_pod_usage("\n".join([HEADER, *lines]).encode(), "c_pod_usage.csv")


def test_old_days_read_with_null_capacity_and_unknown_idle(tmp_path):
    lake = DeltaLake(str(tmp_path))
    lake.write_day(OLD, usage(DAY1).select(list(OLD.columns)), DAY1)
    lake.write_day(tables.K8S_USAGE_RAW, usage(DAY2), DAY2)
    old, new = (lake.read_day(tables.K8S_USAGE_RAW, day) for day in (DAY1, DAY2))
    assert old.schema == new.schema == K8S_USAGE_COLUMNS
    assert old["node_capacity_cpu_core_seconds"].null_count() == old.height == 2
    assert idle_by_day(old)["known"].to_list() == [False]
    assert idle_by_day(new)["known"].to_list() == [True]
    keep = K8sSplit(idle="keep", idle_unit="idle")
    # Old day: pods only (0.25 / 0.75), as before the change; new day: idle has its own row.
    assert [w for _, _, w in namespace_weights(old, keep).rows()] == [
        Decimal("0.25"),
        Decimal("0.75"),
    ]
    assert len(namespace_weights(new, keep)) == 3
