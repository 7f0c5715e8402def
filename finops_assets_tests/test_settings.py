"""Settings: one module decides where things live."""

from pathlib import Path

import pytest

from finops_assets.settings import Settings, SettingsError


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
