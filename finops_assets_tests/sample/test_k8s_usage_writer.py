"""Kubernetes pod usage sample writer: koku's exact columns, hourly rows, GKE node names."""

import csv
import datetime as dt

import polars as pl

from finops_assets.sample import estate
from finops_assets.sample import k8s_usage_writer as writer
from finops_assets.sample.gcp_billing_export_writer import GKE_NODE_NAMES

DAY = dt.date(2024, 3, 1)


def test_header_is_exactly_the_koku_pod_usage_header(shared_data, tmp_path):
    koku = next((shared_data / "koku" / "ocp").glob("*_February-2019-my-ocp-cluster-1.csv"))
    (path,) = writer.write_day(tmp_path, DAY, seed=1, rows_per_day=240)
    assert path.read_text().splitlines()[0] == koku.read_text().splitlines()[0]
    assert (
        path.relative_to(tmp_path).as_posix()
        == "k8s_usage/2024-03-01/gke-shared-prod_pod_usage.csv"
    )


def test_same_arguments_same_bytes(tmp_path):
    a = writer.write_day(tmp_path / "a", DAY, seed=1, rows_per_day=480)[0].read_bytes()
    b = writer.write_day(tmp_path / "b", DAY, seed=1, rows_per_day=480)[0].read_bytes()
    assert a == b
    assert a != writer.write_day(tmp_path / "c", DAY, seed=2, rows_per_day=480)[0].read_bytes()


def test_hourly_rows_for_every_namespace_on_gke_nodes(tmp_path, monkeypatch):
    monkeypatch.setattr(writer, "CHUNK_PODS", 7)
    (path,) = writer.write_day(tmp_path, DAY, seed=3, rows_per_day=24 * 20)
    frame = pl.read_csv(path, infer_schema=False)
    assert frame.height == 24 * 20
    assert frame["pod"].n_unique() == 20
    assert set(frame["namespace"]) == set(estate.K8S_NAMESPACES)
    assert set(frame["node"]) <= set(GKE_NODE_NAMES)
    assert (frame["node"] == frame["resource_id"]).all()
    assert frame["interval_start"].n_unique() == 24
    assert frame["interval_start"].min() == "2024-03-01 00:00:00 +0000 UTC"
    assert frame.group_by("pod").len()["len"].unique().to_list() == [24]
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            assert float(row["pod_usage_cpu_core_seconds"]) <= float(
                row["pod_limit_cpu_core_seconds"]
            )
            assert int(row["pod_usage_memory_byte_seconds"]) <= int(
                row["pod_limit_memory_byte_seconds"]
            )
