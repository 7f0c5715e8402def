"""Deployment profiles: definitions.py registers the local twins (embedded) or the real ones
configured through dg.EnvVar (production); the production outbox twin on a real PostgreSQL."""

import dagster as dg
import pytest
from dagster_aws.s3 import S3Resource

from finops_assets.definitions import resources_for
from finops_assets.resources.events import EventSinksResource
from finops_assets.resources.lake import LandingResource, LocalLakeResource, ObjectStoreLakeResource
from finops_assets.resources.outbox_store import PostgresOutboxResource, SqliteOutboxResource
from finops_assets.resources.source_readers import BigQueryExportReader, CostExplorerReader
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
    assert isinstance(resources["lake"], LocalLakeResource)
    assert resources["lake"].lake_uri == ""  # FINOPS_LAKE_URI at run time, as before
    landing = resources["landing"]
    assert landing.landing_folder  # the local twin of every source
    # embedded stays as it was: every location kind has its reader, each on the registered client
    assert landing.gcs is resources["gcs"] and landing.s3 is resources["s3"]
    assert landing.azure_blob is resources["azure_blob"]
    assert isinstance(landing.cost_explorer, CostExplorerReader)
    assert isinstance(landing.bigquery, BigQueryExportReader)


S3_LAKE = {
    "FINOPS_LAKE_URI": "s3://lake-bucket/lake",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9000",
    "AWS_ACCESS_KEY_ID": "key-id",
    "AWS_SECRET_ACCESS_KEY": "secret",
    "AWS_REGION": "eu-west-1",
}


def test_production_profile_registers_real_twins_through_envvar(tmp_path):
    env = {"FINOPS_PROFILE": "production", "FINOPS_SOURCE_AWS_COST_EXPLORER": "api", **PG}
    env |= {**S3_LAKE, "FINOPS_SOURCE_AWS_CUR": "s3://exports/cur"}
    resources = resources_for(_settings(tmp_path, env))
    store = resources["sinks"].outbox_store
    assert isinstance(store, PostgresOutboxResource)
    assert store.password == dg.EnvVar("DAGSTER_PG_PASSWORD")  # read at launch, hidden in the UI
    assert store.host == dg.EnvVar("DAGSTER_PG_HOST")
    lake, s3 = resources["lake"], resources["s3"]
    assert isinstance(lake, ObjectStoreLakeResource)
    assert lake.lake_uri == dg.EnvVar("FINOPS_LAKE_URI") and lake.s3 is s3
    assert s3.endpoint_url == dg.EnvVar("AWS_ENDPOINT_URL")
    assert s3.aws_secret_access_key == dg.EnvVar("AWS_SECRET_ACCESS_KEY")
    assert s3.region_name == dg.EnvVar("AWS_REGION")
    landing = resources["landing"]
    assert not landing.landing_folder  # pods share no disk: no landing-folder reader
    assert isinstance(landing.cost_explorer, CostExplorerReader) and landing.s3 is s3
    # only the readers of the configured locations
    assert (landing.gcs, landing.azure_blob, landing.bigquery) == (None, None, None)
    assert landing.azure_cost_query is None


def test_production_lake_storage_options_come_from_the_registered_s3_resource(tmp_path):
    settings = _settings(tmp_path, {"FINOPS_PROFILE": "production", **PG, **S3_LAKE})
    s3 = S3Resource(endpoint_url="http://127.0.0.1:1234", region_name="eu-west-3")
    lake = ObjectStoreLakeResource(lake_uri="s3://lake-bucket/lake", s3=s3)
    options = lake.storage_options_for(settings)
    assert options["AWS_ENDPOINT_URL"] == "http://127.0.0.1:1234"
    assert options["AWS_REGION"] == "eu-west-3"
    assert options["AWS_ACCESS_KEY_ID"] == "key-id"  # the rest from the AWS_* settings
    with pytest.raises(SettingsError, match="^FINOPS_LAKE_URI=/tmp/lake: .*local folder"):
        ObjectStoreLakeResource(lake_uri="/tmp/lake").storage_options_for(settings)  # noqa: S108


def test_a_source_with_no_registered_reader_fails_naming_its_setting(tmp_path, monkeypatch):
    env = {"FINOPS_PROFILE": "production", **PG, **S3_LAKE}
    for key, value in {"FINOPS_HOME": str(tmp_path), **env}.items():
        monkeypatch.setenv(key, value)
    landing = resources_for(_settings(tmp_path, env))["landing"]
    with pytest.raises(SettingsError) as caught:
        landing.payloads("azure_cost")  # no location: the landing folder, not registered
    message = str(caught.value)
    assert message.startswith("FINOPS_SOURCE_AZURE_COST is unset") and "\n" not in message
    assert "production" in message
    # a reader that is not registered gets no unconfigured stand-in
    bare = LandingResource(landing_dir=str(tmp_path), locations={"aws_cur": "s3://b/cur"}, s3=None)
    with pytest.raises(SettingsError, match="^FINOPS_SOURCE_AWS_CUR=s3://b/cur: no s3 reader"):
        bare.payloads("aws_cur")
    # a location no reader serves fails when the definitions load
    with pytest.raises(SettingsError, match="^FINOPS_SOURCE_AWS_CUR=bigquery://p.d.t: "):
        resources_for(_settings(tmp_path, {**env, "FINOPS_SOURCE_AWS_CUR": "bigquery://p.d.t"}))


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
