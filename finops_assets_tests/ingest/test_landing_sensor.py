"""The landing-folder sensor: one run per affected day, duplicates skipped, restatements rerun.

It starts where the lake is (bytes the raw archive holds need no run) and keeps a cursor of one
watermark per billing period. Real temp folders, a real raw archive, a real instance.
"""

import datetime as dt
import json
import os

import dagster as dg
import pytest

from finops_assets.definitions import defs
from finops_assets.ingest.sensors import landing_folder_sensor
from finops_assets.resources.lake import LakeResource, LandingResource
from finops_assets.storage.archive import RawArchive

pytestmark = pytest.mark.slow


def _tick(instance, landing, cursor=None, lake=None):
    lake = lake or landing.parent / "lake"
    # LandingResource nests the bucket resources: its resources open in a context manager
    with dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={
            "landing": LandingResource(landing_dir=str(landing)),
            "lake": LakeResource(lake_uri=str(lake)),
        },
        definitions=defs,
    ) as context:
        return landing_folder_sensor.evaluate_tick(context)


def _land(landing, source, day, name, data: bytes, mtime_ns: int = 1):
    path = landing / source / day / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, ns=(mtime_ns, mtime_ns))
    return path


def _archive_landing(landing, lake):
    """What an ingestion run leaves behind: every landed payload in the raw archive."""
    archive = RawArchive(str(lake))
    for path in landing.glob("*/*/*"):
        day = dt.date.fromisoformat(path.parent.name)
        archive.store(path.parent.parent.name, day, path.name, path.read_bytes())


def test_new_files_give_one_run_per_day(tmp_path):
    landing = tmp_path / "landing"
    _land(landing, "aws_cur", "2026-10-01", "a.csv", b"x", 1)
    _land(landing, "gcp_billing_export", "2026-10-01", "b.csv", b"y", 1)
    _land(landing, "aws_cur", "2026-10-02", "a.csv", b"z", 1)
    with dg.instance_for_test() as instance:
        result = _tick(instance, landing)
    assert sorted(r.partition_key for r in result.run_requests) == ["2026-10-01", "2026-10-02"]
    assert all(r.run_key.startswith(r.partition_key) for r in result.run_requests)
    # a landing run never re-materializes the rules: it allocates with the version in force
    selection = {k.to_user_string() for k in result.run_requests[0].asset_selection}
    assert "allocation_rules" not in selection
    assert {"aws_cur_raw", "normalized_costs", "allocated_costs", "budget_status"} <= selection


def test_switched_on_over_a_loaded_lake_it_launches_nothing(tmp_path):
    landing, lake = tmp_path / "landing", tmp_path / "lake"
    for day in ("2026-10-01", "2026-10-02", "2026-11-01"):
        _land(landing, "aws_cur", day, "a.csv", day.encode())
        _land(landing, "k8s_usage", day, "c_pod_usage.csv", b"u" + day.encode())
    _archive_landing(landing, lake)
    with dg.instance_for_test() as instance:
        first = _tick(instance, landing)
        # the same bytes delivered again (rewritten, new mtime): still nothing to do
        _land(landing, "aws_cur", "2026-10-01", "a.csv", b"2026-10-01", 7)
        again = _tick(instance, landing, first.cursor)
        # a restated file: exactly its day runs
        _land(landing, "aws_cur", "2026-10-02", "a.csv", b"restated", 8)
        restated = _tick(instance, landing, again.cursor)
    assert not first.run_requests and "archive already holds" in first.skip_message
    assert not again.run_requests
    assert [r.partition_key for r in restated.run_requests] == ["2026-10-02"]


def test_duplicate_delivery_keeps_the_run_key_and_restatement_changes_it(tmp_path):
    landing = tmp_path / "landing"
    path = _land(landing, "aws_cur", "2026-10-01", "a.csv", b"v1", 1)
    with dg.instance_for_test() as instance:
        first = _tick(instance, landing)
        # the same bytes delivered again before the first run ingested them: same run_key
        os.utime(path, ns=(2, 2))
        duplicate = _tick(instance, landing, first.cursor)
        # restated file: new content, new run key
        _land(landing, "aws_cur", "2026-10-01", "a.csv", b"v2", 3)
        restated = _tick(instance, landing, duplicate.cursor)
        unchanged = _tick(instance, landing, restated.cursor)
    assert duplicate.run_requests[0].run_key == first.run_requests[0].run_key
    assert restated.run_requests[0].run_key != first.run_requests[0].run_key
    assert not unchanged.run_requests


def test_cursor_holds_one_watermark_per_billing_period_not_one_entry_per_file(tmp_path):
    landing = tmp_path / "landing"
    start = dt.date(2026, 10, 1)
    for n in range(62):  # 2026-10-01 .. 2026-12-01
        day = (start + dt.timedelta(days=n)).isoformat()
        for source in ("aws_cur", "azure_cost", "k8s_usage"):
            _land(landing, source, day, "part-1.csv", f"{source}{day}".encode())
    with dg.instance_for_test() as instance:
        result = _tick(instance, landing)
    assert len(result.run_requests) == 62
    periods = json.loads(result.cursor)["periods"]
    assert sorted(periods) == ["2026-10", "2026-11", "2026-12"]


def _rightsized(instance, first: str, days: int):
    """Record rightsizing_recommendations as materialized for `days` days from `first`."""
    start = dt.date.fromisoformat(first)
    for n in range(days):
        instance.report_runless_asset_event(
            dg.AssetMaterialization(
                "rightsizing_recommendations", partition=(start + dt.timedelta(n)).isoformat()
            )
        )


def test_utilization_is_watched_and_reruns_rightsizing_over_its_window(tmp_path):
    landing, lake = tmp_path / "landing", tmp_path / "lake"
    _land(landing, "aws_cur", "2026-10-01", "a.csv", b"x")
    _archive_landing(landing, lake)
    _land(landing, "utilization", "2026-10-01", "cloudwatch.json", b"{}")
    with dg.instance_for_test() as instance:
        _rightsized(instance, "2026-09-25", 30)
        first = _tick(instance, landing)
        _archive_landing(landing, lake)  # what rightsizing_recommendations does when it runs
        _land(landing, "utilization", "2026-10-01", "cloudwatch.json", b"{}", 9)
        again = _tick(instance, landing, first.cursor)
    [request] = first.run_requests
    assert [k.to_user_string() for k in request.asset_selection] == ["rightsizing_recommendations"]
    assert request.tags["dagster/asset_partition_range_start"] == "2026-10-01"
    assert request.tags["dagster/asset_partition_range_end"] == "2026-10-14"
    assert not again.run_requests


def test_utilization_of_a_new_day_rides_with_its_billing_run(tmp_path):
    landing = tmp_path / "landing"
    _land(landing, "aws_cur", "2026-10-03", "a.csv", b"x")
    _land(landing, "utilization", "2026-10-03", "cloudwatch.json", b"{}")
    with dg.instance_for_test() as instance:
        _rightsized(instance, "2026-10-01", 2)  # the history: rightsizing up to 10-02
        result = _tick(instance, landing)
    # the day's whole-graph run covers its rightsizing; no later day was rightsized yet
    [request] = result.run_requests
    assert request.partition_key == "2026-10-03"
    assert "rightsizing_recommendations" in {k.to_user_string() for k in request.asset_selection}


def test_days_outside_the_partitions_are_ignored(tmp_path):
    landing = tmp_path / "landing"
    _land(landing, "aws_cur", "1999-01-01", "a.csv", b"x", 1)
    with dg.instance_for_test() as instance:
        result = _tick(instance, landing)
    assert not result.run_requests


def test_missing_landing_folder_skips_with_a_reason(tmp_path):
    with dg.instance_for_test() as instance:
        result = _tick(instance, tmp_path / "nowhere")
    assert "does not exist" in (result.skip_message or "")


def test_a_day_folder_moved_in_with_old_times_is_seen(tmp_path):
    landing, lake, staged = tmp_path / "landing", tmp_path / "lake", tmp_path / "staged"
    _land(staged, "aws_cur", "2026-10-03", "a.csv", b"new day", 1)  # staged first: older
    _land(landing, "aws_cur", "2026-10-01", "a.csv", b"x", 5)
    _archive_landing(landing, lake)
    with dg.instance_for_test() as instance:
        first = _tick(instance, landing)
        (staged / "aws_cur" / "2026-10-03").rename(landing / "aws_cur" / "2026-10-03")
        moved = _tick(instance, landing, first.cursor)
    assert not first.run_requests
    assert [r.partition_key for r in moved.run_requests] == ["2026-10-03"]
