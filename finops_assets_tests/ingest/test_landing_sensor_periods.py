"""The landing sensor on billing-period folders: a new or restated delivery asks for one ranged
run over its period, keyed by its content; the same bytes again ask for nothing.

Real temp folders, a real raw archive, a real Dagster instance (build_sensor_context and
evaluate_tick on the project's definitions).
"""

import datetime as dt
import json
import os
from pathlib import Path

import dagster as dg
import pytest

from finops_assets.definitions import defs
from finops_assets.ingest.sensors import landing_folder_sensor
from finops_assets.resources.lake import LakeResource, LandingResource
from finops_assets.storage.archive import RawArchive

pytestmark = pytest.mark.slow

NOVEMBER = "focus_export/20261101-20261130/focus-oci"
START, END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


def _tick(instance, landing: Path, cursor=None):
    # LandingResource nests the bucket resources: its resources open in a context manager
    with dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={
            "landing": LandingResource(landing_dir=str(landing)),
            "lake": LakeResource(lake_uri=str(landing.parent / "lake")),
        },
        definitions=defs,
    ) as context:
        return landing_folder_sensor.evaluate_tick(context)


def _land(landing: Path, relative: str, data: bytes, mtime_ns: int) -> Path:
    path = landing / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, ns=(mtime_ns, mtime_ns))
    return path


def _ingested(landing: Path, relative: str) -> None:
    """What the run leaves behind: the period file archived once, under the period's first day."""
    archive = RawArchive(str(landing.parent / "lake"))
    first = dt.datetime.strptime(relative.split("/")[1][:8], "%Y%m%d").date()
    archive.store(relative.split("/")[0], first, relative, (landing / relative).read_bytes())


def test_a_new_period_delivery_asks_for_one_run_over_its_days(tmp_path):
    landing = tmp_path / "landing"
    _land(landing, f"{NOVEMBER}/part-1.csv", b"november v1", 1)
    _land(landing, f"{NOVEMBER}/part-2.csv", b"november v1 part 2", 1)
    with dg.instance_for_test() as instance:
        result = _tick(instance, landing)
    [request] = result.run_requests
    assert request.partition_key is None
    assert (request.tags[START], request.tags[END]) == ("2026-11-01", "2026-11-30")
    assert request.run_key.startswith("period:2026-11-01..2026-11-30:")
    selection = {k.to_user_string() for k in request.asset_selection}
    assert {"focus_export_raw", "normalized_costs", "allocated_costs"} <= selection
    assert "allocation_rules" not in selection


def test_identical_bytes_again_ask_for_nothing_and_a_restatement_for_a_new_run(tmp_path):
    landing = tmp_path / "landing"
    path = _land(landing, f"{NOVEMBER}/part-1.csv", b"november v1", 1)
    with dg.instance_for_test() as instance:
        first = _tick(instance, landing)
        _land(landing, f"{NOVEMBER}/part-1.csv", b"november v1", 5)  # redelivered, not run yet
        before_run = _tick(instance, landing, first.cursor)
        _ingested(landing, f"{NOVEMBER}/part-1.csv")  # the run ingested it
        _land(landing, f"{NOVEMBER}/part-1.csv", b"november v1", 9)  # the same bytes again
        after_run = _tick(instance, landing, before_run.cursor)
        path.write_bytes(b"november v2: 15 November restated")
        os.utime(path, ns=(20, 20))
        restated = _tick(instance, landing, after_run.cursor)
        unchanged = _tick(instance, landing, restated.cursor)
    assert [r.run_key for r in before_run.run_requests] == [first.run_requests[0].run_key]
    assert not after_run.run_requests
    [request] = restated.run_requests
    assert request.run_key != first.run_requests[0].run_key
    assert (request.tags[START], request.tags[END]) == ("2026-11-01", "2026-11-30")
    assert not unchanged.run_requests
    assert sorted(json.loads(unchanged.cursor)["periods"]) == ["2026-11"]


def test_switched_on_over_an_ingested_period_it_launches_nothing(tmp_path):
    landing = tmp_path / "landing"
    _land(landing, f"{NOVEMBER}/part-1.csv", b"november v1", 1)
    _ingested(landing, f"{NOVEMBER}/part-1.csv")
    with dg.instance_for_test() as instance:
        result = _tick(instance, landing)
    assert not result.run_requests


def test_files_a_newer_manifest_dropped_never_ask_for_a_run(tmp_path):
    landing = tmp_path / "landing"
    _land(landing, f"{NOVEMBER}/part_0_0000-older-run.csv", b"superseded", 1)
    _land(landing, f"{NOVEMBER}/part_0_0001.csv", b"current", 1)
    manifest = {"blobs": [{"blobName": "exports/run-2/part_0_0001.csv", "byteCount": 7}]}
    _land(landing, f"{NOVEMBER}/manifest.json", json.dumps(manifest).encode(), 1)
    _ingested(landing, f"{NOVEMBER}/part_0_0001.csv")  # only the listed file is ever archived
    with dg.instance_for_test() as instance:
        result = _tick(instance, landing)
    assert not result.run_requests


def test_a_period_reaching_before_the_partitions_runs_only_their_days(tmp_path):
    landing = tmp_path / "landing"
    _land(landing, "aws_cur/20260915-20261014/cur2/part-1.csv", b"x", 1)
    _land(landing, "aws_cur/19990101-19990131/cur2/part-1.csv", b"y", 1)  # no partition at all
    with dg.instance_for_test() as instance:
        result = _tick(instance, landing)
    [request] = result.run_requests
    assert (request.tags[START], request.tags[END]) == ("2026-10-01", "2026-10-14")


def test_day_folders_and_period_folders_together(tmp_path):
    landing = tmp_path / "landing"
    _land(landing, "aws_cur/2026-10-02/a.csv", b"day file", 1)
    _land(landing, f"{NOVEMBER}/part-1.csv", b"november v1", 1)
    with dg.instance_for_test() as instance:
        result = _tick(instance, landing)
    assert sorted(r.partition_key or r.tags[START] for r in result.run_requests) == [
        "2026-10-02",
        "2026-11-01",
    ]
