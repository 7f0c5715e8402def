"""`make demo` runs offline: FX from the shipped seed, never a wait on the ECB feed."""

import datetime as dt

import dagster as dg
import pytest

from finops_assets.demo import demo_rates_config, materialize_window, prepare_instance, window_job
from finops_assets.resources.reference import FxRatesResource
from finops_assets.sample.generate import generate_estate
from finops_assets.settings import Settings


def test_the_demo_turns_the_live_fx_feed_off(monkeypatch, tmp_path):
    monkeypatch.delenv("FINOPS_ECB_BASE_URL")  # conftest turns it off for every test
    settings = Settings.from_env({"FINOPS_HOME": str(tmp_path)})
    assert settings.ecb_base_url.startswith("http")  # the product default is live
    config = demo_rates_config(settings)
    assert FxRatesResource(**config["rates"]["config"]).feed_url() is None


def test_a_configured_feed_is_kept(tmp_path):
    env = {"FINOPS_HOME": str(tmp_path), "FINOPS_ECB_BASE_URL": "http://127.0.0.1:9/ecb"}
    assert demo_rates_config(Settings.from_env(env)) == {}


@pytest.mark.slow
def test_the_demo_window_past_the_seed_needs_no_network(monkeypatch, tmp_path):
    """2026-10-31 lies after the seed's last rate: with the feed pointed at a closed port and
    the demo's rates config, fx_rates materializes from the seed instead of waiting."""
    monkeypatch.setenv("FINOPS_ECB_BASE_URL", "http://127.0.0.1:9/unreachable")
    monkeypatch.setenv("FINOPS_HOME", str(tmp_path))
    monkeypatch.setenv("FINOPS_FX_WAIT_SECONDS", "0")  # without the config: fail, not wait
    monkeypatch.setenv("FINOPS_FX_WAIT_RETRIES", "0")
    settings = Settings.from_env()
    day = dt.date(2026, 10, 31)
    generate_estate(settings.landing_dir, day, 1, rows_per_day=50)
    offline = {"rates": {"config": {"base_url": "off"}}}
    result = materialize_window(prepare_instance(settings), day, day, "fx_rates", resources=offline)
    assert result.success


def test_the_full_graph_run_leaves_the_review_group_out():
    """The preview is asked for with a candidate file; the demo's whole-graph run skips it."""
    from finops_assets.definitions import defs

    everything = {k.to_user_string() for k in window_job("*").asset_layer.executable_asset_keys}
    graph = defs.resolve_asset_graph()
    review = {k.to_user_string() for k in dg.AssetSelection.groups("review").resolve(graph)}
    assert review == {"allocation_preview"}
    assert not review & everything
    assert {"allocated_costs", "applicable_rules", "finops_report"} <= everything
    assert window_job("allocation_preview").asset_layer.executable_asset_keys == {
        dg.AssetKey("allocation_preview")
    }
