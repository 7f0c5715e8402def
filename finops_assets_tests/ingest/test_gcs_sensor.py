"""The GCS export sensor against fake-gcs-server: runs per day, duplicates and restatements."""

import os

import dagster as dg
import pytest
from dagster_gcp import GCSResource
from google.cloud import storage

from finops_assets.definitions import defs
from finops_assets.ingest.gcs_sensor import days_of_keys, gcs_export_sensor
from finops_assets.resources.lake import LakeResource
from finops_assets_tests.servers.gcs_emulator import fake_gcs_server

pytestmark = pytest.mark.slow

SOURCE = "gcp_billing_export"


@pytest.fixture(scope="module")
def gcs_url():
    previous = os.environ.get("STORAGE_EMULATOR_HOST")
    with fake_gcs_server() as url:
        os.environ["STORAGE_EMULATOR_HOST"] = url
        try:
            yield url
        finally:
            if previous is None:
                os.environ.pop("STORAGE_EMULATOR_HOST", None)
            else:
                os.environ["STORAGE_EMULATOR_HOST"] = previous


@pytest.fixture
def bucket(gcs_url, request, monkeypatch, tmp_path):
    monkeypatch.setenv("FINOPS_LAKE_URI", str(tmp_path / "lake"))  # the archive sensors read
    name = f"exports-{abs(hash(request.node.name)) % 10**8}"
    monkeypatch.setenv("FINOPS_SOURCE_GCP_BILLING_EXPORT", f"gs://{name}/billing")
    return storage.Client().create_bucket(name)


def _put(bucket, day, name, data: bytes, source=SOURCE):
    bucket.blob(f"billing/{source}/{day}/{name}").upload_from_string(data)


def _tick(instance, cursor=None):
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={"gcs": GCSResource(), "lake": LakeResource()},
        definitions=defs,
    )
    return gcs_export_sensor.evaluate_tick(context)


def test_new_files_give_one_run_per_affected_day(bucket):
    _put(bucket, "2026-10-01", "a.csv", b"a")
    _put(bucket, "2026-10-01", "b.parquet", b"b")
    _put(bucket, "2026-10-02", "a.csv", b"c")
    _put(bucket, "1999-01-01", "a.csv", b"outside the partitions")
    _put(bucket, "2026-10-03", "a.csv", b"not watched", source="aws_cur")
    with dg.instance_for_test() as instance:
        result = _tick(instance)
    assert sorted(r.partition_key for r in result.run_requests) == ["2026-10-01", "2026-10-02"]
    assert all(r.run_key.startswith(f"{r.partition_key}:") for r in result.run_requests)


def test_duplicate_delivery_keeps_the_run_key_and_restatement_changes_it(bucket):
    _put(bucket, "2026-10-01", "a.csv", b"v1")
    _put(bucket, "2026-10-01", "b.csv", b"other")
    with dg.instance_for_test() as instance:
        first = _tick(instance)
        # the same bytes delivered again (a new generation of the cursor key itself)
        _put(bucket, "2026-10-01", "b.csv", b"other")
        duplicate = _tick(instance, first.cursor)
        _put(bucket, "2026-10-01", "a.csv", b"v2")  # restated
        restated = _tick(instance, duplicate.cursor)
        unchanged = _tick(instance, restated.cursor)
    assert [r.run_key for r in duplicate.run_requests] == [first.run_requests[0].run_key]
    assert len(restated.run_requests) == 1
    assert restated.run_requests[0].run_key != first.run_requests[0].run_key
    assert not unchanged.run_requests
    assert "no new export files" in (unchanged.skip_message or "")


def test_a_vanished_cursor_key_lists_everything_again_under_the_same_run_keys(bucket):
    _put(bucket, "2026-10-01", "a.csv", b"a")
    _put(bucket, "2026-10-02", "b.csv", b"b")
    with dg.instance_for_test() as instance:
        first = _tick(instance)
        assert first.cursor and "2026-10-02/b.csv" in first.cursor
        bucket.blob(f"billing/{SOURCE}/2026-10-02/b.csv").delete()  # the cursor key is gone
        again = _tick(instance, first.cursor)
    day_one = [r.run_key for r in first.run_requests if r.partition_key == "2026-10-01"]
    # every key is returned again; the unchanged day maps to its old run_key (Dagster skips it)
    assert [r.run_key for r in again.run_requests] == day_one


def test_the_same_bytes_under_another_name_keep_the_days_run_key(bucket):
    _put(bucket, "2026-10-01", "a.csv", b"v1")
    with dg.instance_for_test() as instance:
        first = _tick(instance)
        _put(bucket, "2026-10-01", "a-copy.csv", b"v1")  # a copy before the run archived a.csv
        copy = _tick(instance, first.cursor)
    [run] = first.run_requests
    assert [r.run_key for r in copy.run_requests] == [run.run_key]  # Dagster skips it


def test_no_gcs_source_configured_skips(monkeypatch):
    monkeypatch.delenv("FINOPS_SOURCE_GCP_BILLING_EXPORT", raising=False)
    with dg.instance_for_test() as instance:
        result = _tick(instance)
    assert "no source is read from gs://" in (result.skip_message or "")


def test_days_of_keys_reads_only_day_folders_of_watched_sources():
    keys = [
        "p/gcp_billing_export/2026-10-05/x.csv",
        "p/gcp_billing_export/2026-10-06/deep/x.csv",
        "p/gcp_billing_export/not-a-day/x.csv",
        "q/gcp_billing_export/2026-10-07/x.csv",
    ]
    assert days_of_keys(keys, "p", ["gcp_billing_export"]) == ["2026-10-05"]
