"""A wrong database URL or an unreachable bucket stops the start with one clear message."""

import os
import shutil
import subprocess
import sys

import pytest

from finops_assets.deploy_checks import (
    StartupCheckError,
    check_instance_storage,
    check_lake,
    check_source_buckets,
)
from finops_assets.settings import Settings
from finops_assets_tests.conftest import REPO_ROOT

PRODUCTION_YAML = REPO_ROOT / "deploy" / "dagster" / "dagster.yaml"


@pytest.fixture
def production_home(tmp_path):
    """A FINOPS_HOME whose Dagster home holds the production (PostgreSQL) dagster.yaml."""
    (tmp_path / "dagster").mkdir()
    shutil.copy(PRODUCTION_YAML, tmp_path / "dagster" / "dagster.yaml")
    return tmp_path


def _settings(home, env: dict[str, str]) -> Settings:
    return Settings.from_env({"FINOPS_HOME": str(home), **env})


def test_reachable_postgres_and_bucket_pass(
    production_home, postgres_server, s3_server, monkeypatch
):
    for key, value in postgres_server.env().items():
        monkeypatch.setenv(key, value)
    bucket = s3_server.new_bucket()
    settings = _settings(
        production_home, {**s3_server.env(), "FINOPS_LAKE_URI": f"s3://{bucket}/lake"}
    )
    assert "PostgreSQL" in check_instance_storage(settings.dagster_home)
    assert f"s3://{bucket}/lake" in check_lake(settings)


def test_wrong_database_password_names_the_settings(production_home, postgres_server, monkeypatch):
    for key, value in {**postgres_server.env(), "DAGSTER_PG_PASSWORD": "wrong"}.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(StartupCheckError) as caught:
        check_instance_storage(production_home / "dagster")
    message = str(caught.value)
    assert "unreachable" in message and "DAGSTER_PG_PASSWORD" in message
    assert "wrong" not in message.replace("DAGSTER_PG", "")  # the password is never printed
    assert "\n" not in message


def test_missing_bucket_and_dead_endpoint_fail_clearly(tmp_path, s3_server):
    missing = _settings(
        tmp_path, {**s3_server.env(), "FINOPS_LAKE_URI": "s3://no-such-bucket/lake"}
    )
    with pytest.raises(StartupCheckError, match="bucket 'no-such-bucket' does not exist"):
        check_lake(missing)
    dead_env = {**s3_server.env(), "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}
    dead = _settings(tmp_path, {**dead_env, "FINOPS_LAKE_URI": "s3://any/lake"})
    with pytest.raises(StartupCheckError, match="s3://any/lake is unreachable"):
        check_lake(dead)


@pytest.mark.slow
def test_cli_check_prints_one_line_and_exits_2(production_home, postgres_server):
    env = {**os.environ, **postgres_server.env(), "FINOPS_HOME": str(production_home)}
    env.pop("DAGSTER_HOME", None)
    env["DAGSTER_PG_PORT"] = "9"  # nothing listens there
    result = subprocess.run(
        [sys.executable, "-m", "finops_assets.cli", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO_ROOT,
    )
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.startswith("finops check:")]
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert "port 9" in lines[0] or ":9/" in lines[0]


def test_an_unreachable_source_bucket_names_its_setting(tmp_path, s3_server, monkeypatch):
    for key, value in s3_server.env().items():
        monkeypatch.setenv(key, value)
    bucket = s3_server.new_bucket()
    ok = _settings(tmp_path, {"FINOPS_SOURCE_AWS_CUR": f"s3://{bucket}/cur"})
    assert check_source_buckets(ok) == f"source buckets: s3://{bucket} (aws_cur) reachable"
    missing = _settings(tmp_path, {"FINOPS_SOURCE_AWS_CUR": "s3://no-such-bucket/cur"})
    with pytest.raises(StartupCheckError, match="FINOPS_SOURCE_AWS_CUR=s3://no-such-bucket/cur"):
        check_source_buckets(missing)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    with pytest.raises(StartupCheckError) as dead:
        check_source_buckets(ok)
    message = str(dead.value)
    assert message.startswith(f"FINOPS_SOURCE_AWS_CUR=s3://{bucket}/cur: the bucket is unreachable")
    assert "\n" not in message
    assert check_source_buckets(_settings(tmp_path, {})) == "source buckets: none configured"
