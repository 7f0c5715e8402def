"""The lake in an S3 bucket (moto server over real HTTP): same pipeline, same totals as local."""

import datetime as dt

import boto3
import pytest
from dagster._core.storage.defs_state.base import set_defs_state_storage
from polars.testing import assert_frame_equal

from finops_assets.demo import run_demo
from finops_assets.settings import Settings
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake
from finops_assets.summary import business_unit_totals, stage_totals

pytestmark = pytest.mark.slow

START = dt.date(2026, 10, 1)
DAYS = 2
END = START + dt.timedelta(days=DAYS - 1)


def _demo(tmp_path_factory, env: dict[str, str]) -> Settings:
    """Run the demo path (generate, materialize every asset) with the given environment."""
    home = tmp_path_factory.mktemp("finops")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FINOPS_HOME", str(home))
        patch.setenv("DAGSTER_HOME", str(home / "dagster"))
        for key, value in env.items():
            patch.setenv(key, value)
        settings = Settings.from_env()
        # run_demo opens DagsterInstance.get() and leaves it current for definition loading;
        # scope that to this block so later tests do not inherit a closed instance.
        with set_defs_state_storage(None):
            run = run_demo(settings, START, DAYS, rows_per_day=300)
    assert run.success, run.run_id
    return settings


@pytest.fixture(scope="module")
def local_and_s3(tmp_path_factory, s3_server):
    """The same two-day estate materialized into a local lake and into s3://bucket/lake."""
    bucket = s3_server.new_bucket()
    s3_env = {**s3_server.env(), "FINOPS_LAKE_URI": f"s3://{bucket}/lake"}
    return _demo(tmp_path_factory, {}), _demo(tmp_path_factory, s3_env), bucket


def _delta(settings: Settings) -> DeltaLake:
    return DeltaLake(settings.lake_uri, settings.storage_options)


def test_s3_lake_has_the_same_totals_as_the_local_lake(local_and_s3):
    local, s3, _ = local_and_s3
    assert s3.lake_uri.startswith("s3://") and not local.lake_uri.startswith("s3://")
    assert_frame_equal(
        stage_totals(_delta(local), START, END), stage_totals(_delta(s3), START, END)
    )
    assert_frame_equal(
        business_unit_totals(_delta(local), START, END),
        business_unit_totals(_delta(s3), START, END),
    )


def test_s3_tables_hold_the_same_rows_as_local(local_and_s3):
    local, s3, _ = local_and_s3
    days = [START, END]
    for contract in (tables.NORMALIZED_COSTS, tables.ALLOCATED_COSTS, tables.BUDGET_STATUS):
        expected = _delta(local).read_days(contract, days)
        got = _delta(s3).read_days(contract, days)
        assert got.height == expected.height > 0, contract.name
        keys = [c for c, t in expected.schema.items() if not t.is_nested()]
        assert_frame_equal(got.sort(keys), expected.sort(keys), check_row_order=False)


def test_tables_and_raw_archive_are_objects_in_the_bucket(local_and_s3, s3_server):
    _, _, bucket = local_and_s3
    client = boto3.client("s3", endpoint_url=s3_server.endpoint, **_credentials(s3_server))
    paginator = client.get_paginator("list_objects_v2")
    keys = [
        item["Key"]
        for page in paginator.paginate(Bucket=bucket, Prefix="lake/")
        for item in page.get("Contents", [])
    ]
    assert any(k.startswith("lake/normalized_costs/_delta_log/") for k in keys)
    archived = [k for k in keys if k.startswith("lake/_raw_archive/aws_cur/")]
    assert archived and not any(k.endswith(".tmp") for k in archived)


def _credentials(server) -> dict[str, str]:
    env = server.env()
    return {
        "aws_access_key_id": env["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": env["AWS_SECRET_ACCESS_KEY"],
        "region_name": env["AWS_REGION"],
    }
