"""CUR 2.0 export files read from S3 (moto in server mode, real boto3 via dagster-aws)."""

import datetime as dt
from pathlib import Path

import boto3
import dagster as dg
import pytest
from dagster_aws.s3 import S3Resource
from polars.testing import assert_frame_equal

from finops_assets.domain.sources import aws_cur
from finops_assets.ingest.assets import build_raw_asset
from finops_assets.resources.lake import LakeResource, LandingResource
from finops_assets.resources.payloads import LandingError
from finops_assets.resources.s3_exports import from_location
from finops_assets.sample.aws_cur_writer import write_day
from finops_assets.settings import Settings
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake
from finops_assets_tests.servers.s3 import running_s3

DAY = dt.date(2026, 10, 3)
RAW = tables.raw_contract(aws_cur)


@pytest.fixture(scope="module")
def moto():
    with running_s3() as server:
        yield server


@pytest.fixture
def bucket(moto, monkeypatch):
    """A fresh bucket; boto3 (and S3Resource) reach moto through AWS_* variables only."""
    for key, value in moto.env().items():
        monkeypatch.setenv(key, value)
    return moto.new_bucket()


def _client():
    return boto3.client("s3")


def _upload(bucket: str, files: list[Path], prefix: str) -> None:
    for path in files:
        key = f"{prefix}/aws_cur/{path.parent.name}/{path.name}"
        _client().put_object(Bucket=bucket, Key=key, Body=path.read_bytes())


def _materialize(tmp_path: Path, name: str) -> DeltaLake:
    lake_dir = tmp_path / name
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [build_raw_asset(aws_cur)],
            partition_key=DAY.isoformat(),
            instance=instance,
            resources={
                "lake": LakeResource(lake_uri=str(lake_dir)),
                "landing": LandingResource(landing_dir=str(tmp_path / "landing")),
            },
        )
    assert result.success
    return DeltaLake(str(lake_dir))


@pytest.mark.slow
def test_raw_asset_ingests_csv_gz_and_parquet_from_s3_like_the_landing_folder(
    bucket, tmp_path, monkeypatch
):
    files = write_day(tmp_path / "landing", DAY, seed=11, rows_per_day=400)
    assert {p.suffix for p in files} == {".parquet", ".gz"}
    landing_rows = _materialize(tmp_path, "lake_landing").read_day(RAW, DAY)
    _upload(bucket, files, "exports/cur")
    monkeypatch.setenv("FINOPS_SOURCE_AWS_CUR", f"s3://{bucket}/exports/cur")
    s3_rows = _materialize(tmp_path, "lake_s3").read_day(RAW, DAY)
    assert s3_rows.height == landing_rows.height > 0
    assert_frame_equal(aws_cur.billed_totals(s3_rows), aws_cur.billed_totals(landing_rows))
    # the same rows, only the fetched time differs (object LastModified vs file mtime)
    assert_frame_equal(s3_rows.drop("x_fetched_at"), landing_rows.drop("x_fetched_at"))


@pytest.mark.slow
def test_payloads_are_the_objects_bytes_with_last_modified(bucket, tmp_path):
    files = write_day(tmp_path / "landing", DAY, seed=3, rows_per_day=100)
    _upload(bucket, files, "p")
    _client().put_object(Bucket=bucket, Key=f"p/aws_cur/{DAY}/.part", Body=b"ignored")
    _client().put_object(Bucket=bucket, Key=f"p/aws_cur/{DAY}/x.csv.gz.tmp", Body=b"ignored")
    source = from_location(f"s3://{bucket}/p/", Settings.from_env())
    payloads = source.fetch("aws_cur", DAY)
    assert [p.name for p in payloads] == sorted(f"aws_cur/{DAY}/{f.name}" for f in files)
    assert {p.data for p in payloads} == {f.read_bytes() for f in files}
    listed = _client().head_object(Bucket=bucket, Key=f"p/aws_cur/{DAY}/{files[0].name}")
    [payload] = [p for p in payloads if p.name == f"aws_cur/{DAY}/{files[0].name}"]
    assert payload.fetched_at.tzinfo is not None
    # the same object; HEAD gives whole seconds where the listing may give milliseconds
    assert abs(payload.fetched_at - listed["LastModified"]) < dt.timedelta(seconds=1)
    assert source.fetch("aws_cur", DAY + dt.timedelta(days=1)) == []


@pytest.mark.parametrize("bad_key", ["sub/folder/file.csv", "bad name;rm.csv"])
def test_keys_outside_the_layout_are_refused_by_name(bucket, bad_key):
    _client().put_object(Bucket=bucket, Key=f"aws_cur/{DAY}/{bad_key}", Body=b"x")
    with pytest.raises(LandingError, match="expected <prefix>/<source>/<YYYY-MM-DD>/<file>"):
        from_location(f"s3://{bucket}", Settings.from_env()).fetch("aws_cur", DAY)


def test_a_file_rewritten_between_listing_and_reading_fails_clearly(bucket):
    key = f"aws_cur/{DAY}/a.csv"
    _client().put_object(Bucket=bucket, Key=key, Body=b"v1")
    source = from_location(f"s3://{bucket}", Settings.from_env())
    listed = _client().list_objects_v2(Bucket=bucket)["Contents"][0]
    _client().put_object(Bucket=bucket, Key=key, Body=b"v2")
    with pytest.raises(LandingError, match="rewritten during ingestion"):
        source._read(listed)
    assert [p.data for p in source.fetch("aws_cur", DAY)] == [b"v2"]


@pytest.mark.slow
def test_the_registered_s3_resource_serves_the_reads(bucket, tmp_path, monkeypatch, moto):
    """The raw asset reads with the S3Resource handed to the landing resource (as definitions.py
    does with the registered `s3`): its endpoint and keys, none from the environment."""
    files = write_day(tmp_path / "landing", DAY, seed=5, rows_per_day=50)
    _upload(bucket, files, "exports/cur")
    env = moto.env()
    for key in env:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.delenv("FINOPS_SOURCE_AWS_CUR", raising=False)
    s3 = S3Resource(
        endpoint_url=env["AWS_ENDPOINT_URL"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name="us-east-1",
    )
    landing = LandingResource(
        landing_dir=str(tmp_path / "empty"),
        locations={"aws_cur": f"s3://{bucket}/exports/cur"},
        s3=s3,
    )
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [build_raw_asset(aws_cur)],
            partition_key=DAY.isoformat(),
            instance=instance,
            resources={"lake": LakeResource(lake_uri=str(tmp_path / "lake")), "landing": landing},
        )
    assert result.success
    assert DeltaLake(str(tmp_path / "lake")).read_day(RAW, DAY).height > 0
    unconfigured = LandingResource(
        landing_dir=str(tmp_path / "empty"), locations={"aws_cur": f"s3://{bucket}/exports/cur"}
    )
    with pytest.raises(Exception, match="(?i)credentials|endpoint|connect|access"):
        unconfigured.payloads("aws_cur").fetch("aws_cur", DAY)
