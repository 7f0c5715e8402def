"""BillingAccountId of Cost Explorer rows: the payer setting, else STS GetCallerIdentity.

STS is the real boto3 client against moto's server on 127.0.0.1 (server mode, real HTTP).
"""

import polars as pl
import pytest

from finops_assets.domain.sources.aws_cost_explorer_focus import with_billing_account
from finops_assets.normalize.pipeline import rows_without_billing_account
from finops_assets.resources.aws_payer import (
    PayerAccountError,
    recorded_identity_path,
    resolve_payer_account,
)
from finops_assets.sample.aws_cost_explorer_writer import write_caller_identity
from finops_assets.sample.estate import cost_explorer_payer
from finops_assets.settings import Settings, SettingsError
from finops_assets_tests.servers.s3 import running_s3

MOTO_ACCOUNT = "123456789012"  # the account moto answers GetCallerIdentity with


def _settings(**env: str) -> Settings:
    return Settings.from_env({"FINOPS_HOME": "payer-test-home", **env})


def test_the_setting_names_the_payer_without_calling_aws():
    def no_client():
        raise AssertionError("STS must not be called when the payer is configured")

    settings = _settings(
        FINOPS_AWS_PAYER_ACCOUNT_ID="111122223333", FINOPS_SOURCE_AWS_COST_EXPLORER="api"
    )
    assert resolve_payer_account(settings, no_client) == "111122223333"


def test_a_payer_setting_that_is_not_an_account_id_is_refused():
    with pytest.raises(SettingsError, match="FINOPS_AWS_PAYER_ACCOUNT_ID.*12-digit"):
        _settings(FINOPS_AWS_PAYER_ACCOUNT_ID="acme-org")


def test_files_without_the_setting_name_no_payer(tmp_path):
    assert resolve_payer_account(_settings(FINOPS_LANDING_DIR=str(tmp_path))) is None


def test_the_landing_folder_answers_with_its_recorded_caller_identity(tmp_path):
    """The recorded twin of Cost Explorer keeps STS's answer beside the pages, as the sample does."""
    assert write_caller_identity(tmp_path) == 1
    assert write_caller_identity(tmp_path) == 0  # same bytes: nothing rewritten
    settings = _settings(FINOPS_LANDING_DIR=str(tmp_path))
    assert resolve_payer_account(settings) == cost_explorer_payer()
    explicit = _settings(
        FINOPS_LANDING_DIR=str(tmp_path), FINOPS_AWS_PAYER_ACCOUNT_ID="111122223333"
    )
    assert resolve_payer_account(explicit) == "111122223333"  # the setting wins


@pytest.mark.parametrize("text", ['{"Account": "acme"}', "not json", '["123456789012"]'])
def test_a_recorded_identity_without_an_account_id_names_the_file(tmp_path, text):
    path = recorded_identity_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(text)
    with pytest.raises(PayerAccountError, match="sts-caller-identity.json"):
        resolve_payer_account(_settings(FINOPS_LANDING_DIR=str(tmp_path)))


@pytest.mark.slow
def test_the_api_source_asks_sts_for_the_callers_account(monkeypatch):
    with running_s3() as server:
        for key, value in server.env().items():
            monkeypatch.setenv(key, value)
        settings = _settings(FINOPS_SOURCE_AWS_COST_EXPLORER="api")
        assert resolve_payer_account(settings) == MOTO_ACCOUNT


def test_only_cost_explorer_rows_without_an_account_are_filled():
    rows = pl.DataFrame(
        {
            "x_source": ["aws_cost_explorer", "aws_cost_explorer", "aws_cur", "gcp_billing_export"],
            "BillingAccountId": [None, "999988887777", None, "0A1B2C"],
        }
    )
    assert rows_without_billing_account(rows) == 2
    filled = with_billing_account(rows, "111122223333")
    assert filled["BillingAccountId"].to_list() == [
        "111122223333", "999988887777", None, "0A1B2C",
    ]  # fmt: skip
    assert rows_without_billing_account(filled) == 1
    assert with_billing_account(rows, None).equals(rows)


@pytest.mark.slow
def test_the_demo_names_the_sample_cost_explorer_payer(tmp_path, monkeypatch):
    """run_demo configures the sample bill's payer the way a deployment does (1 day, 20 rows)."""
    import datetime as dt

    from finops_assets.demo import run_demo
    from finops_assets.sample.estate import accounts_for_source, cost_explorer_payer

    monkeypatch.setenv("FINOPS_HOME", str(tmp_path))
    monkeypatch.delenv("FINOPS_AWS_PAYER_ACCOUNT_ID", raising=False)
    payers = {a.billing_account_id for a in accounts_for_source("aws_cost_explorer")}
    assert payers == {cost_explorer_payer()}
    run = run_demo(Settings.from_env(), dt.date(2026, 10, 1), days=1, rows_per_day=20)
    assert run.success
    from finops_assets.storage import tables
    from finops_assets.storage.delta import DeltaLake

    rows = DeltaLake(Settings.from_env().lake_uri).read_day(
        tables.NORMALIZED_COSTS, dt.date(2026, 10, 1)
    )
    ce = rows.filter(pl.col("x_source") == "aws_cost_explorer")
    assert ce.height > 0 and set(ce["BillingAccountId"]) == {cost_explorer_payer()}
