"""`make demo` runs offline: FX from the shipped seed, never a wait on the ECB feed."""

from finops_assets.demo import use_offline_rates_unless_configured
from finops_assets.settings import Settings


def test_the_demo_turns_the_live_fx_feed_off(monkeypatch, tmp_path):
    monkeypatch.delenv("FINOPS_ECB_BASE_URL")  # conftest turns it off for every test
    monkeypatch.setenv("FINOPS_HOME", str(tmp_path))
    assert Settings.from_env().ecb_base_url.startswith("http")  # the product default is live
    use_offline_rates_unless_configured()
    assert Settings.from_env().ecb_base_url == "off"


def test_a_configured_feed_is_kept(monkeypatch, tmp_path):
    monkeypatch.setenv("FINOPS_ECB_BASE_URL", "http://127.0.0.1:9/ecb")
    monkeypatch.setenv("FINOPS_HOME", str(tmp_path))
    use_offline_rates_unless_configured()
    assert Settings.from_env().ecb_base_url == "http://127.0.0.1:9/ecb"
