"""The same bytes count once in the S3 sensor: under another ETag (a multipart re-upload) or under
another key of the day. Real boto3 against a moto server, a real Dagster instance and Delta lake.

The product's answer: a day folder's run key is made of the contents of its files (source and
SHA-256), not their keys and ETags, so a re-upload or a copy asks for the run already asked for,
which Dagster skips (one run per run key and sensor); once the run has archived the bytes, the
sensor asks for nothing. The sensor learns each object's content hash once: its cursor keeps a
bounded map (key, ETag) -> content hash, so an unchanged object is not downloaded again.
The data is koku's real CUR file (public_data/koku/aws/test_cur.csv) moved to 2026-10-01.
"""

import csv
import datetime as dt
import io
import json
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import boto3
import dagster as dg
import pytest
from dagster_aws.s3 import S3Resource

from finops_assets.definitions import defs
from finops_assets.domain.sources import aws_cur
from finops_assets.ingest.assets import build_raw_asset
from finops_assets.ingest.s3_sensor import s3_export_sensor
from finops_assets.resources.lake import LakeResource, LandingResource
from finops_assets.resources.s3_exports import S3Exports
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake
from finops_assets_tests.ingest.s3_cur_bucket import koku_cur_in_october, point_at_new_bucket
from finops_assets_tests.servers.s3 import running_s3

pytestmark = pytest.mark.slow

DAY = "2026-10-01"
FOLDER = f"exports/aws_cur/{DAY}"


@pytest.fixture(scope="module")
def moto():
    with running_s3() as server:
        yield server


@pytest.fixture
def bucket(moto, monkeypatch, tmp_path):
    return point_at_new_bucket(moto, monkeypatch, tmp_path, "exports")


@pytest.fixture
def cur_bytes(shared_data) -> bytes:
    return koku_cur_in_october(shared_data).encode()


@pytest.fixture
def reads(monkeypatch) -> list[str]:
    """The keys the S3 reader downloads (a spy around the real read)."""
    seen: list[str] = []
    real = S3Exports._read

    def spy(self, obj):
        seen.append(obj["Key"])
        return real(self, obj)

    monkeypatch.setattr(S3Exports, "_read", spy)
    return seen


def _put(bucket: str, key: str, body: bytes) -> str:
    return boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=body)["ETag"]


def _multipart(bucket: str, key: str, body: bytes) -> str:
    """The same bytes uploaded as a (one-part) multipart upload: an ETag of the form md5-1."""
    s3 = boto3.client("s3")
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=1, Body=body)
    parts = {"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]}
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload, MultipartUpload=parts
    )
    return done["ETag"]


def _tick(instance, cursor=None):
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={"s3": S3Resource(), "lake": LakeResource()},
        definitions=defs,
    )
    return s3_export_sensor.evaluate_tick(context)


def _run_once_per_run_key(instance, requests: list[dg.RunRequest], tmp_path: Path) -> int:
    """Each request whose run key no run has used yet, as the daemon does; the number run."""
    launched = 0
    for request in requests:
        if instance.get_runs(filters=dg.RunsFilter(tags={"dagster/run_key": request.run_key})):
            continue
        result = dg.materialize(
            [build_raw_asset(aws_cur)],
            partition_key=request.partition_key,
            instance=instance,
            tags={"dagster/run_key": request.run_key or ""},
            resources={
                "lake": LakeResource(),
                "landing": LandingResource(landing_dir=str(tmp_path / "empty")),
            },
        )
        assert result.success
        launched += 1
    return launched


def _cur_totals(data: bytes) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for record in csv.DictReader(io.StringIO(data.decode())):
        amount = Decimal(record["lineItem/UnblendedCost"]).quantize(Decimal("1e-10"), ROUND_HALF_UP)
        totals[record["lineItem/CurrencyCode"]] += amount
    return dict(totals)


def test_a_multipart_reupload_and_a_copy_of_the_same_bytes_run_the_day_once(
    bucket, cur_bytes, tmp_path, reads
):
    single = _put(bucket, f"{FOLDER}/cur.csv", cur_bytes)
    with dg.instance_for_test() as instance:
        first = _tick(instance)
        multipart = _multipart(bucket, f"{FOLDER}/cur.csv", cur_bytes)  # before the run ran
        assert multipart != single and multipart.strip('"').endswith("-1")
        _put(bucket, f"{FOLDER}/cur-copy.csv", cur_bytes)  # and under a second name
        second = _tick(instance, first.cursor)
        [run] = first.run_requests
        assert [r.run_key for r in second.run_requests] == [run.run_key]  # Dagster skips it
        assert _run_once_per_run_key(instance, first.run_requests + second.run_requests, tmp_path)
        del reads[:]
        _multipart(bucket, f"{FOLDER}/cur-copy.csv", cur_bytes)  # once more, after the run
        third = _tick(instance, second.cursor)
    assert not third.run_requests  # the archive holds these bytes
    assert reads == [f"{FOLDER}/cur-copy.csv"]  # cur.csv's hash is in the cursor: not re-read
    lake = DeltaLake(str(tmp_path / "lake"))
    rows = lake.read_day(tables.raw_contract(aws_cur), dt.date.fromisoformat(DAY))
    assert rows.height == 19  # counted once, not 38
    assert dict(aws_cur.billed_totals(rows).iter_rows()) == _cur_totals(cur_bytes)


def test_a_data_exports_refresh_downloads_only_the_files_whose_etag_changed(
    bucket, cur_bytes, monkeypatch, reads
):
    """Overwrite mode: AWS rewrites the period's files in place; an unchanged one keeps its
    ETag, so the sensor knows its content hash from the cursor and does not download it."""
    monkeypatch.setenv("FINOPS_SOURCE_AWS_CUR", f"s3://{bucket}/cur/acme?layout=cur2")
    folder = "cur/acme/data/BILLING_PERIOD=2026-10"
    lines = cur_bytes.splitlines(keepends=True)
    halves = {
        "acme-00001.csv": b"".join(lines[:10]),
        "acme-00002.csv": lines[0] + b"".join(lines[10:]),
    }

    def deliver(files: dict[str, bytes]) -> None:
        for name, body in files.items():
            _put(bucket, f"{folder}/{name}", body)
        uris = [f"s3://{bucket}/{folder}/{name}" for name in halves]
        manifest = json.dumps({"executionId": "x", "dataFiles": uris}).encode()
        _put(bucket, "cur/acme/metadata/BILLING_PERIOD=2026-10/acme-Manifest.json", manifest)

    deliver(halves)
    with dg.instance_for_test() as instance:
        first = _tick(instance)
        assert sorted(k for k in reads if "/data/" in k) == sorted(f"{folder}/{n}" for n in halves)
        del reads[:]
        deliver({"acme-00002.csv": halves["acme-00002.csv"] + lines[-1]})  # a restated part
        second = _tick(instance, first.cursor)
    assert [k for k in reads if "/data/" in k] == [f"{folder}/acme-00002.csv"]
    assert len(first.run_requests) == len(second.run_requests) == 1
    assert first.run_requests[0].run_key != second.run_requests[0].run_key
