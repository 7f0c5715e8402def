"""`finops check` probes every production source location (FINOPS_SOURCE_*) before any partition:
a refused credential, a dead or silent endpoint, or a missing bucket is one line naming the
setting, within a short timeout, and nothing is written.

Real servers on 127.0.0.1: moto with authentication enforced (IAM keys and signatures are
checked, so a wrong key id and a wrong secret are real refusals), the local Cost Explorer,
fake-gcs-server, Azurite; port 9 (nothing listens) for a dead endpoint, and a socket that
accepts connections but never answers for a silent one. Not produced here: a real Azure AD token
for the Cost Management API (the probe only reaches its endpoint; see check_azure_cost_api).
"""

import socket
import time
from collections.abc import Iterator

import pytest

from finops_assets.aws_checks import check_cost_explorer, check_source_buckets
from finops_assets.deploy_checks import StartupCheckError, run_startup_checks
from finops_assets.deploy_errors import PROBE_TIMEOUT_SECONDS
from finops_assets.settings import Settings
from finops_assets.source_checks import (
    check_azure_containers,
    check_azure_cost_api,
    check_gcs_buckets,
)
from finops_assets_tests.servers.azurite import ACCOUNT, ACCOUNT_KEY
from finops_assets_tests.servers.cost_explorer import CostExplorerServer
from finops_assets_tests.servers.s3 import REGION, S3Server, iam_access_key, running_s3

DEAD = "http://127.0.0.1:9"


def _settings(home, env: dict[str, str]) -> Settings:
    return Settings.from_env({"FINOPS_HOME": str(home), **env})


def _refused(check, settings: Settings) -> str:
    with pytest.raises(StartupCheckError) as caught:
        check(settings)
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message
    return message


@pytest.fixture(scope="module")
def secured_s3() -> Iterator[tuple[S3Server, str, str]]:
    """moto checking every request's key and signature, and the one key pair it accepts."""
    with running_s3(enforce_auth=True) as server:
        key_id, secret = iam_access_key(server)
        yield server, key_id, secret


@pytest.fixture
def silent_url() -> Iterator[str]:
    """An endpoint that accepts TCP connections (kernel backlog) and never sends a byte."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


def _aws(monkeypatch, endpoint: str, key_id: str, secret: str) -> None:
    for name, value in {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": key_id,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)


def test_s3_source_refused_key_and_secret_name_their_setting(tmp_path, secured_s3, monkeypatch):
    server, key_id, secret = secured_s3
    _aws(monkeypatch, server.endpoint, key_id, secret)
    import boto3

    # A session of its own: boto3's default session keeps the first credentials it resolved, and
    # an earlier test in the same process may have resolved others (InvalidAccessKeyId here).
    session = boto3.session.Session(aws_access_key_id=key_id, aws_secret_access_key=secret)
    session.client("s3", endpoint_url=server.endpoint, region_name=REGION).create_bucket(
        Bucket="cur-exports"
    )
    location = {"FINOPS_SOURCE_AWS_CUR": "s3://cur-exports/cur"}
    assert check_source_buckets(_settings(tmp_path, location)) == (
        "source buckets: s3://cur-exports (aws_cur) reachable"
    )
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIANOTAKNOWNKEY0000")
    wrong_key = _refused(check_source_buckets, _settings(tmp_path, location))
    assert wrong_key.startswith("FINOPS_SOURCE_AWS_CUR=s3://cur-exports/cur: the credential")
    assert "InvalidAccessKeyId" in wrong_key and "AWS_ACCESS_KEY_ID" in wrong_key
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    wrong_secret = _refused(check_source_buckets, _settings(tmp_path, location))
    assert "SignatureDoesNotMatch" in wrong_secret and "AWS_SECRET_ACCESS_KEY" in wrong_secret
    assert "not-the-secret" not in wrong_secret
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    missing = {"FINOPS_SOURCE_AWS_CUR": "s3://no-such-exports/cur"}
    message = _refused(check_source_buckets, _settings(tmp_path, missing))
    assert message.startswith("FINOPS_SOURCE_AWS_CUR=s3://no-such-exports/cur:")
    assert "NoSuchBucket" in message


def test_cost_explorer_reachable_dead_and_refused(tmp_path, secured_s3, monkeypatch):
    server, key_id, secret = secured_s3
    _aws(monkeypatch, server.endpoint, key_id, secret)  # STS answers on moto
    api = {"FINOPS_SOURCE_AWS_COST_EXPLORER": "api"}
    with CostExplorerServer() as cost_explorer:
        monkeypatch.setenv("AWS_ENDPOINT_URL_COST_EXPLORER", cost_explorer.url)
        line = check_cost_explorer(_settings(tmp_path, api))
        assert line.startswith(f"Cost Explorer: {cost_explorer.url} reachable")
        assert cost_explorer.calls == 0  # Cost Explorer bills every request: none is made
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIANOTAKNOWNKEY0000")
        refused = _refused(check_cost_explorer, _settings(tmp_path, api))
        assert refused.startswith("FINOPS_SOURCE_AWS_COST_EXPLORER=api: the credential")
        assert "InvalidClientTokenId" in refused and "AWS_ACCESS_KEY_ID" in refused
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key_id)
    monkeypatch.setenv("AWS_ENDPOINT_URL_COST_EXPLORER", DEAD)
    dead = _refused(check_cost_explorer, _settings(tmp_path, api))
    assert dead.startswith("FINOPS_SOURCE_AWS_COST_EXPLORER=api: Cost Explorer at")
    assert "AWS_ENDPOINT_URL_COST_EXPLORER" in dead
    assert check_cost_explorer(_settings(tmp_path, {})) == "Cost Explorer: not configured"


def test_azure_cost_api_endpoint_and_scope(tmp_path):
    api = {"FINOPS_SOURCE_AZURE_COST": "api", "FINOPS_AZURE_SCOPE": "subscriptions/0000"}
    with CostExplorerServer() as listening:  # any endpoint that accepts connections
        reachable = {**api, "FINOPS_AZURE_BASE_URL": listening.url}
        line = check_azure_cost_api(_settings(tmp_path, reachable))
        assert line == f"Azure Cost Management: {listening.url} reachable"
    dead = _refused(
        check_azure_cost_api, _settings(tmp_path, {**api, "FINOPS_AZURE_BASE_URL": DEAD})
    )
    assert dead.startswith("FINOPS_SOURCE_AZURE_COST=api: the Cost Management endpoint")
    assert "FINOPS_AZURE_BASE_URL" in dead
    no_scope = _refused(
        check_azure_cost_api, _settings(tmp_path, {"FINOPS_SOURCE_AZURE_COST": "api"})
    )
    assert no_scope.startswith("FINOPS_SOURCE_AZURE_COST=api:") and "FINOPS_AZURE_SCOPE" in no_scope


def _pointed_at(scheme: str, url: str, tmp_path, monkeypatch):
    """(check, settings) for one bucket source whose endpoint is `url`."""
    if scheme == "s3":
        _aws(monkeypatch, url, "testing", "testing")
        return check_source_buckets, {"FINOPS_SOURCE_AWS_CUR": "s3://cur-exports/cur"}
    if scheme == "gs":
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", url)
        return check_gcs_buckets, {"FINOPS_SOURCE_GCP_BILLING_EXPORT": "gs://exports/gcp"}
    connection = (
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
        f"BlobEndpoint={url}/{ACCOUNT};"
    )
    env = {"FINOPS_SOURCE_AZURE_COST": "az://exports/azure"}
    return check_azure_containers, {**env, "AZURE_STORAGE_CONNECTION_STRING": connection}


@pytest.mark.parametrize("scheme", ["s3", "gs", "az"])
def test_a_silent_endpoint_fails_within_the_probe_timeout(
    tmp_path, silent_url, monkeypatch, scheme
):
    check, env = _pointed_at(scheme, DEAD, tmp_path, monkeypatch)
    _refused(check, _settings(tmp_path, env))  # the client libraries are imported (not timed)
    check, env = _pointed_at(scheme, silent_url, tmp_path, monkeypatch)
    settings = _settings(tmp_path, env)
    started = time.monotonic()
    message = _refused(check, settings)
    elapsed = time.monotonic() - started
    assert message.startswith("FINOPS_SOURCE_")
    assert elapsed < 3 * PROBE_TIMEOUT_SECONDS, f"{scheme} probe took {elapsed:.1f} s"


def test_a_dead_source_stops_the_checks_before_anything_is_written(tmp_path, monkeypatch):
    """The CLI's one line and exit 2 are tested in test_startup_checks / _source_checks."""
    _aws(monkeypatch, DEAD, "testing", "testing")
    settings = _settings(tmp_path, {"FINOPS_SOURCE_AWS_CUR": "s3://cur-exports/cur"})
    message = _refused(run_startup_checks, settings)
    assert message.startswith("FINOPS_SOURCE_AWS_CUR=s3://cur-exports/cur: the bucket")
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no lake folder, no outbox


def test_startup_checks_list_the_api_probes(tmp_path):
    lines = run_startup_checks(_settings(tmp_path, {}))
    assert "Cost Explorer: not configured" in lines
    assert "Azure Cost Management: not configured" in lines
