"""Settings: one module decides where things live."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from finops_assets.settings import (
    DEFAULT_PARTITIONS_START,
    Settings,
    SettingsError,
    partitions_start,
    sensor_interval_seconds,
)


def test_defaults_live_under_finops_home(tmp_path):
    settings = Settings.from_env({"FINOPS_HOME": str(tmp_path / "home")})
    assert settings.lake_uri == str(tmp_path / "home" / "lake")
    assert settings.landing_dir == tmp_path / "home" / "landing"
    assert settings.dagster_home == tmp_path / "home" / "dagster"
    assert settings.base_currency == "USD"
    assert settings.table_uri("normalized_costs").endswith("/lake/normalized_costs")


def test_object_store_lake_takes_storage_options_from_the_environment():
    env = {"FINOPS_LAKE_URI": "s3://bucket/lake", "AWS_REGION": "eu-west-1", "HOME": "/x"}
    settings = Settings.from_env(env)
    assert settings.lake_uri == "s3://bucket/lake"
    assert dict(settings.storage_options) == {"AWS_REGION": "eu-west-1"}
    assert not settings.lake_is_local


def test_unknown_lake_scheme_is_one_clear_error():
    with pytest.raises(SettingsError, match="unknown scheme 'ftp'"):
        Settings.from_env({"FINOPS_LAKE_URI": "ftp://somewhere/lake"})


def test_bad_base_currency_is_refused():
    with pytest.raises(SettingsError, match="ISO 4217"):
        Settings.from_env({"FINOPS_BASE_CURRENCY": "dollars"})


def test_relative_home_is_resolved(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert Settings.from_env({}).home == Path(tmp_path / ".finops").resolve()


def test_partitions_start_defaults_to_the_sample_and_refuses_bad_days():
    assert partitions_start({}) == DEFAULT_PARTITIONS_START
    assert partitions_start({"FINOPS_PARTITIONS_START": " 2025-01-01 "}) == "2025-01-01"
    with pytest.raises(SettingsError, match="not a day such as"):
        partitions_start({"FINOPS_PARTITIONS_START": "2025-13-01"})
    with pytest.raises(SettingsError, match="in the future"):
        partitions_start({"FINOPS_PARTITIONS_START": "2999-01-01"})


@pytest.mark.slow
def test_the_partitions_definition_starts_on_the_configured_day():
    """A fresh interpreter: the daily partitions are built when the definitions load."""
    code = (
        "from finops_assets.partitions import daily_partitions as p;"
        "print(p.get_first_partition_key())"
    )
    env = {**os.environ, "FINOPS_PARTITIONS_START": "2026-06-03"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "2026-06-03"


def test_sensor_interval_defaults_to_30_seconds_and_refuses_nonsense():
    assert sensor_interval_seconds({}) == 30
    assert sensor_interval_seconds({"FINOPS_SENSOR_INTERVAL_SECONDS": "5"}) == 5
    for bad in ("0", "-1", "2.5", "soon"):
        with pytest.raises(SettingsError, match="FINOPS_SENSOR_INTERVAL_SECONDS"):
            sensor_interval_seconds({"FINOPS_SENSOR_INTERVAL_SECONDS": bad})


def test_outbox_database_defaults_to_sqlite_and_postgres_uses_the_instance_settings() -> None:
    assert Settings.from_env({}).outbox_database == "sqlite"
    env = {"FINOPS_OUTBOX_DATABASE": "postgres", "DAGSTER_PG_HOST": "db", "DAGSTER_PG_USER": "u"}
    env |= {"DAGSTER_PG_PASSWORD": "p", "DAGSTER_PG_DB": "dagster"}
    settings = Settings.from_env(env)
    assert settings.outbox_postgres == {
        "host": "db", "port": "5432", "user": "u", "password": "p", "dbname": "dagster"
    }  # fmt: skip
    assert settings.outbox_schema == "finops_outbox" and "'p'" not in repr(settings)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"FINOPS_OUTBOX_DATABASE": "mysql"}, "FINOPS_OUTBOX_DATABASE"),
        ({"FINOPS_OUTBOX_DATABASE": "postgres", "DAGSTER_PG_USER": "u"}, "DAGSTER_PG_HOST"),
        ({"FINOPS_OUTBOX_SCHEMA": "x; drop"}, "FINOPS_OUTBOX_SCHEMA"),
    ],
)
def test_a_bad_outbox_setting_is_named(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.from_env(env)


def test_provider_and_restatement_settings_are_read_here_and_only_here():
    env = {
        "FINOPS_RESTATEMENT_DAYS": "7",
        "FINOPS_CE_GROUP_BY": "SERVICE",
        "FINOPS_AZURE_SCOPE": "subscriptions/1",
        "AZURE_STORAGE_CONNECTION_STRING": "UseDevelopmentStorage=true",
        "OTHER": "x",
    }
    settings = Settings.from_env(env)
    assert (settings.restatement_days, settings.restatement_close_day) == (7, 5)
    assert dict(settings.api_options) == {
        "FINOPS_CE_GROUP_BY": "SERVICE",
        "FINOPS_AZURE_SCOPE": "subscriptions/1",
    }
    assert dict(settings.azure_storage) == {
        "AZURE_STORAGE_CONNECTION_STRING": "UseDevelopmentStorage=true"
    }
    assert "UseDevelopmentStorage" not in repr(settings)
    with pytest.raises(SettingsError, match="FINOPS_RESTATEMENT_CLOSE_DAY='x'"):
        Settings.from_env({"FINOPS_RESTATEMENT_CLOSE_DAY": "x"})
