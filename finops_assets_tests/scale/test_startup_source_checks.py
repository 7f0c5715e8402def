"""gs:// and az:// source buckets and the outbox database are checked at start, each failure one
line naming the setting: real fake-gcs-server, Azurite and PostgreSQL on 127.0.0.1, and port 9
(nothing listens there) for the dead endpoint."""

import os
import subprocess
import sys

import pytest
from google.cloud import storage

from finops_assets.deploy_checks import StartupCheckError, run_startup_checks
from finops_assets.settings import Settings
from finops_assets.source_checks import (
    check_azure_containers,
    check_gcs_buckets,
    check_outbox_database,
)
from finops_assets_tests.conftest import REPO_ROOT
from finops_assets_tests.servers.azurite import ACCOUNT, azurite_blob
from finops_assets_tests.servers.gcs_emulator import fake_gcs_server

DEAD = "http://127.0.0.1:9"


def _settings(home, env: dict[str, str]) -> Settings:
    return Settings.from_env({"FINOPS_HOME": str(home), **env})


def _one_line(error: pytest.ExceptionInfo[StartupCheckError]) -> str:
    message = str(error.value)
    assert "\n" not in message and "Traceback" not in message
    return message


@pytest.fixture(scope="module")
def gcs_url():
    with fake_gcs_server() as url:
        yield url


@pytest.fixture(scope="module")
def azurite(tmp_path_factory):
    with azurite_blob(tmp_path_factory.mktemp("azurite")) as connection_string:
        yield connection_string


def test_gcs_bucket_reachable_missing_and_dead(tmp_path, gcs_url, monkeypatch):
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_url)
    storage.Client(project="test").create_bucket("billing-exports")
    ok = _settings(tmp_path, {"FINOPS_SOURCE_GCP_BILLING_EXPORT": "gs://billing-exports/gcp"})
    assert (
        check_gcs_buckets(ok)
        == "gs:// source buckets: gs://billing-exports (gcp_billing_export) reachable"
    )
    missing = _settings(tmp_path, {"FINOPS_SOURCE_GCP_BILLING_EXPORT": "gs://no-such-bucket/x"})
    with pytest.raises(StartupCheckError) as caught:
        check_gcs_buckets(missing)
    assert _one_line(caught).startswith(
        "FINOPS_SOURCE_GCP_BILLING_EXPORT=gs://no-such-bucket/x: the bucket is unreachable"
    )
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", DEAD)
    with pytest.raises(StartupCheckError) as dead:
        check_gcs_buckets(ok)
    assert _one_line(dead).startswith(
        "FINOPS_SOURCE_GCP_BILLING_EXPORT=gs://billing-exports/gcp: the bucket is unreachable"
    )
    assert check_gcs_buckets(_settings(tmp_path, {})) == "gs:// source buckets: none configured"


def test_gcs_without_credentials_names_the_setting(tmp_path, monkeypatch):
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "no-such-key.json"))
    settings = _settings(tmp_path, {"FINOPS_SOURCE_GCP_BILLING_EXPORT": "gs://b/gcp"})
    with pytest.raises(StartupCheckError) as caught:
        check_gcs_buckets(settings)
    message = _one_line(caught)
    assert message.startswith("FINOPS_SOURCE_GCP_BILLING_EXPORT=gs://b/gcp: no Google credential")
    assert "GOOGLE_APPLICATION_CREDENTIALS" in message


def test_azure_container_reachable_missing_wrong_key_and_dead(tmp_path, azurite):
    from azure.storage.blob import BlobServiceClient

    BlobServiceClient.from_connection_string(azurite).create_container("exports")
    location = {"FINOPS_SOURCE_AZURE_COST": "az://exports/azure"}
    ok = _settings(tmp_path, {**location, "AZURE_STORAGE_CONNECTION_STRING": azurite})
    assert (
        check_azure_containers(ok) == "az:// source containers: az://exports (azure_cost) reachable"
    )
    missing = _settings(
        tmp_path,
        {"FINOPS_SOURCE_AZURE_COST": "az://nothing/x", "AZURE_STORAGE_CONNECTION_STRING": azurite},
    )
    with pytest.raises(StartupCheckError) as caught:
        check_azure_containers(missing)
    assert _one_line(caught).startswith(
        "FINOPS_SOURCE_AZURE_COST=az://nothing/x: the container is unreachable"
    )
    wrong_key = azurite.replace("AccountKey=", "AccountKey=AAAA")
    wrong = _settings(tmp_path, {**location, "AZURE_STORAGE_CONNECTION_STRING": wrong_key})
    with pytest.raises(StartupCheckError) as refused:
        check_azure_containers(wrong)
    message = _one_line(refused)
    assert "failed to authenticate" in message  # Azurite checks the shared-key signature
    assert "AZURE_STORAGE_CONNECTION_STRING" in message and "AAAA" not in message
    dead_string = azurite.split("BlobEndpoint=")[0] + f"BlobEndpoint={DEAD}/{ACCOUNT};"
    dead = _settings(tmp_path, {**location, "AZURE_STORAGE_CONNECTION_STRING": dead_string})
    with pytest.raises(StartupCheckError) as unreachable:
        check_azure_containers(dead)
    assert _one_line(unreachable).startswith(
        "FINOPS_SOURCE_AZURE_COST=az://exports/azure: the container is unreachable"
    )


def test_azure_container_without_a_credential_setting(tmp_path):
    settings = _settings(tmp_path, {"FINOPS_SOURCE_AZURE_COST": "az://exports/azure"})
    with pytest.raises(StartupCheckError) as caught:
        check_azure_containers(settings)
    message = _one_line(caught)
    assert message.startswith("FINOPS_SOURCE_AZURE_COST=az://exports/azure:")
    assert "AZURE_STORAGE_CONNECTION_STRING" in message


def test_outbox_database_postgres_ok_wrong_password_and_dead_port(tmp_path, postgres_server):
    env = {**postgres_server.env(), "FINOPS_OUTBOX_DATABASE": "postgres"}
    assert check_outbox_database(_settings(tmp_path, env)).startswith(
        "event outbox: PostgreSQL postgresql://127.0.0.1:"
    )
    wrong = _settings(tmp_path, {**env, "DAGSTER_PG_PASSWORD": "not-the-password"})
    with pytest.raises(StartupCheckError) as refused:
        check_outbox_database(wrong)
    message = _one_line(refused)
    assert message.startswith("the event outbox database postgresql://")
    assert "FINOPS_OUTBOX_DATABASE" in message and "DAGSTER_PG_PASSWORD" in message
    assert "not-the-password" not in message
    dead = _settings(tmp_path, {**env, "DAGSTER_PG_PORT": "9"})
    with pytest.raises(StartupCheckError) as unreachable:
        check_outbox_database(dead)
    assert ":9/" in _one_line(unreachable)


def test_outbox_database_sqlite_is_created_under_the_home(tmp_path):
    line = check_outbox_database(_settings(tmp_path, {}))
    assert line == f"event outbox: SQLite {tmp_path / 'events' / 'outbox' / 'outbox.sqlite3'}"
    assert (tmp_path / "events" / "outbox" / "outbox.sqlite3").exists()


def test_startup_checks_include_the_new_checks(tmp_path):
    lines = run_startup_checks(_settings(tmp_path, {}))
    assert "gs:// source buckets: none configured" in lines
    assert "az:// source containers: none configured" in lines
    assert any(line.startswith("event outbox: SQLite") for line in lines)


@pytest.mark.slow
def test_cli_check_stops_on_a_dead_gcs_bucket_before_anything_else(tmp_path, gcs_url):
    env = {**os.environ, "FINOPS_HOME": str(tmp_path), "STORAGE_EMULATOR_HOST": DEAD}
    env.pop("DAGSTER_HOME", None)
    env["FINOPS_SOURCE_GCP_BILLING_EXPORT"] = "gs://billing-exports/gcp"
    result = subprocess.run(
        [sys.executable, "-m", "finops_assets.cli", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO_ROOT,
    )
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("finops check:")]
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert "FINOPS_SOURCE_GCP_BILLING_EXPORT=gs://billing-exports/gcp" in lines[0]
