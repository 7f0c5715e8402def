"""The landing-folder sensor: one run per affected day, duplicates skipped, restatements rerun."""

import os

import dagster as dg

from finops_assets.definitions import defs
from finops_assets.ingest.sensors import landing_folder_sensor
from finops_assets.resources.lake import LandingResource


def _tick(instance, landing, cursor=None):
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={"landing": LandingResource(landing_dir=str(landing))},
        definitions=defs,
    )
    return landing_folder_sensor.evaluate_tick(context)


def _land(landing, source, day, name, data: bytes, mtime_ns: int):
    path = landing / source / day / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, ns=(mtime_ns, mtime_ns))
    return path


def test_new_files_give_one_run_per_day(tmp_path):
    landing = tmp_path / "landing"
    _land(landing, "aws_cur", "2026-10-01", "a.csv", b"x", 1)
    _land(landing, "gcp_billing_export", "2026-10-01", "b.csv", b"y", 1)
    _land(landing, "aws_cur", "2026-10-02", "a.csv", b"z", 1)
    with dg.instance_for_test() as instance:
        result = _tick(instance, landing)
    assert sorted(r.partition_key for r in result.run_requests) == ["2026-10-01", "2026-10-02"]
    assert all(r.run_key.startswith(r.partition_key) for r in result.run_requests)


def test_duplicate_delivery_keeps_the_run_key_and_restatement_changes_it(tmp_path):
    landing = tmp_path / "landing"
    path = _land(landing, "aws_cur", "2026-10-01", "a.csv", b"v1", 1)
    with dg.instance_for_test() as instance:
        first = _tick(instance, landing)
        # the same bytes delivered again (new mtime): same run_key, so Dagster skips it
        os.utime(path, ns=(2, 2))
        duplicate = _tick(instance, landing, first.cursor)
        # restated file: new content, new run key
        _land(landing, "aws_cur", "2026-10-01", "a.csv", b"v2", 3)
        restated = _tick(instance, landing, duplicate.cursor)
        unchanged = _tick(instance, landing, restated.cursor)
    assert duplicate.run_requests[0].run_key == first.run_requests[0].run_key
    assert restated.run_requests[0].run_key != first.run_requests[0].run_key
    assert not unchanged.run_requests


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
