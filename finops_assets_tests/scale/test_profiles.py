"""Deployment profiles: definitions.py registers the local twins (embedded) or the real ones
configured through dg.EnvVar (production); the production outbox twin on a real PostgreSQL."""

import dagster as dg
import pytest

from finops_assets.definitions import resources_for
from finops_assets.resources.events import EventSinksResource
from finops_assets.resources.outbox_store import PostgresOutboxResource, SqliteOutboxResource
from finops_assets.resources.source_readers import CostExplorerReader
from finops_assets.settings import Settings, SettingsError


def _settings(tmp_path, env: dict[str, str]) -> Settings:
    return Settings.from_env({"FINOPS_HOME": str(tmp_path), **env})


PG = {
    "DAGSTER_PG_HOST": "db",
    "DAGSTER_PG_USER": "dagster",
    "DAGSTER_PG_DB": "dagster",
    "DAGSTER_PG_PASSWORD": "pw",
}


def test_profile_setting(tmp_path):
    assert _settings(tmp_path, {}).profile == "embedded"
    production = _settings(tmp_path, {"FINOPS_PROFILE": "production", **PG})
    assert production.profile == "production"
    assert production.outbox_database == "postgres"  # the instance's database by default
    with pytest.raises(SettingsError, match="FINOPS_PROFILE='staging'"):
        _settings(tmp_path, {"FINOPS_PROFILE": "staging"})
    with pytest.raises(SettingsError, match="FINOPS_OUTBOX_DATABASE=sqlite"):
        _settings(
            tmp_path, {"FINOPS_PROFILE": "production", "FINOPS_OUTBOX_DATABASE": "sqlite", **PG}
        )
    with pytest.raises(SettingsError, match="DAGSTER_PG_HOST"):
        _settings(tmp_path, {"FINOPS_PROFILE": "production"})


def test_embedded_profile_registers_the_local_twins(tmp_path):
    resources = resources_for(_settings(tmp_path, {}))
    assert isinstance(resources["sinks"].outbox_store, SqliteOutboxResource)
    assert resources["landing"].cost_explorer is None  # no API reader: landing folder only
    assert resources["gcs"] is resources["landing"].gcs  # the registered one serves the reads


def test_production_profile_registers_real_twins_through_envvar(tmp_path):
    env = {"FINOPS_PROFILE": "production", "FINOPS_SOURCE_AWS_COST_EXPLORER": "api", **PG}
    resources = resources_for(_settings(tmp_path, env))
    store = resources["sinks"].outbox_store
    assert isinstance(store, PostgresOutboxResource)
    assert store.password == dg.EnvVar("DAGSTER_PG_PASSWORD")  # read at launch, hidden in the UI
    assert store.host == dg.EnvVar("DAGSTER_PG_HOST")
    assert isinstance(resources["landing"].cost_explorer, CostExplorerReader)


def test_production_outbox_twin_enqueues_into_postgresql(tmp_path, postgres_server, monkeypatch):
    for key, value in postgres_server.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("FINOPS_HOME", str(tmp_path))
    settings = Settings.from_env({**postgres_server.env(), "FINOPS_PROFILE": "production"})
    sinks = resources_for(settings)["sinks"]

    @dg.asset
    def enqueued(sinks: EventSinksResource) -> bool:
        return sinks.outbox().enqueue("profile-test-event", b"{}")

    result = dg.materialize([enqueued], resources={"sinks": sinks})
    assert result.success and result.output_for_node("enqueued") is True
    with postgres_server.connect() as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT event_id FROM finops_outbox.events WHERE event_id = %s", ("profile-test-event",)
        )
        assert cursor.fetchall() == [("profile-test-event",)]
