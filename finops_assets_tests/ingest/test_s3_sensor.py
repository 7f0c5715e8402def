"""The S3 export sensor against moto: one run per day, duplicates skipped, restatements rerun."""

import datetime as dt
import json

import boto3
import dagster as dg
import pytest
from dagster_aws.s3 import S3Resource

from finops_assets.definitions import defs
from finops_assets.ingest.s3_sensor import s3_export_sensor
from finops_assets.resources.lake import LakeResource
from finops_assets.storage.archive import RawArchive
from finops_assets_tests.servers.s3 import running_s3

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def moto():
    with running_s3() as server:
        yield server


@pytest.fixture
def bucket(moto, monkeypatch, tmp_path):
    """A fresh bucket watched for aws_cur and focus_export under the prefix 'exports'."""
    for key, value in moto.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("FINOPS_LAKE_URI", str(tmp_path / "lake"))  # the archive sensors read
    name = moto.new_bucket()
    monkeypatch.setenv("FINOPS_SOURCE_AWS_CUR", f"s3://{name}/exports")
    monkeypatch.setenv("FINOPS_SOURCE_FOCUS_EXPORT", f"s3://{name}/exports/")
    return name


def _put(bucket: str, key: str, body: bytes) -> None:
    boto3.client("s3").put_object(Bucket=bucket, Key=f"exports/{key}", Body=body)


def _tick(instance, cursor=None):
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={"s3": S3Resource(), "lake": LakeResource()},
        definitions=defs,
    )
    return s3_export_sensor.evaluate_tick(context)


def test_new_files_give_one_run_per_affected_day(bucket):
    _put(bucket, "aws_cur/2026-10-01/a.csv.gz", b"a")
    _put(bucket, "focus_export/2026-10-01/f.csv", b"f")
    _put(bucket, "aws_cur/2026-10-02/a.csv.gz", b"b")
    _put(bucket, "aws_cur/1999-01-01/a.csv.gz", b"outside the partitions")
    _put(bucket, "gcp_billing_export/2026-10-03/g.csv", b"not read from s3")
    with dg.instance_for_test() as instance:
        first = _tick(instance)
        again = _tick(instance, first.cursor)
    days = sorted(r.partition_key for r in first.run_requests)
    assert days == ["2026-10-01", "2026-10-02"]
    assert all(r.run_key.startswith(f"{r.partition_key}:") for r in first.run_requests)
    assert not again.run_requests and "no new" in (again.skip_message or "")


def test_duplicate_delivery_does_nothing_and_a_restated_file_runs_the_day_again(bucket):
    _put(bucket, "aws_cur/2026-10-05/a.csv.gz", b"v1")
    with dg.instance_for_test() as instance:
        first = _tick(instance)
        _put(bucket, "aws_cur/2026-10-05/a.csv.gz", b"v1")  # same bytes again: same ETag
        duplicate = _tick(instance, first.cursor)
        _put(bucket, "aws_cur/2026-10-05/a.csv.gz", b"v2")  # restated
        restated = _tick(instance, duplicate.cursor)
        forgotten = _tick(instance, None)  # a lost cursor: run keys still dedupe
    assert not duplicate.run_requests
    [rerun] = restated.run_requests
    assert rerun.partition_key == "2026-10-05"
    assert rerun.run_key != first.run_requests[0].run_key
    assert [r.run_key for r in forgotten.run_requests] == [rerun.run_key]


def test_a_file_landing_in_the_same_second_as_the_cursor_is_not_missed(bucket):
    _put(bucket, "aws_cur/2026-10-06/a.csv.gz", b"a")
    _put(bucket, "aws_cur/2026-10-07/b.csv.gz", b"b")
    client = boto3.client("s3")
    a = client.head_object(Bucket=bucket, Key="exports/aws_cur/2026-10-06/a.csv.gz")
    b = client.head_object(Bucket=bucket, Key="exports/aws_cur/2026-10-07/b.csv.gz")
    # the last tick saw only `a`, and its newest LastModified equals b's (same second)
    cursor = {
        f"s3://{bucket}/exports": {
            "since": b["LastModified"].isoformat(),
            "seen": {"exports/aws_cur/2026-10-06/a.csv.gz": a["ETag"]},
        }
    }
    with dg.instance_for_test() as instance:
        result = _tick(instance, json.dumps(cursor))
    assert [r.partition_key for r in result.run_requests] == ["2026-10-07"]


def test_no_s3_source_configured_skips_with_a_reason(monkeypatch):
    for name in ("FINOPS_SOURCE_AWS_CUR", "FINOPS_SOURCE_FOCUS_EXPORT"):
        monkeypatch.delenv(name, raising=False)
    with dg.instance_for_test() as instance:
        result = _tick(instance)
    assert "no source is read from s3://" in (result.skip_message or "")


def test_a_first_tick_asks_only_for_days_whose_bytes_the_raw_archive_lacks(bucket, tmp_path):
    _put(bucket, "aws_cur/2026-10-08/a.csv.gz", b"ingested before the sensor was switched on")
    _put(bucket, "aws_cur/2026-10-09/a.csv.gz", b"new")
    archive = RawArchive(str(tmp_path / "lake"))  # the lake the sensor's LakeResource reads
    archive.store(
        "aws_cur",
        dt.date(2026, 10, 8),
        "aws_cur/2026-10-08/a.csv.gz",
        b"ingested before the sensor was switched on",
    )
    with dg.instance_for_test() as instance:
        result = _tick(instance)
    assert [r.partition_key for r in result.run_requests] == ["2026-10-09"]
