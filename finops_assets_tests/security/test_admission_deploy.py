"""The webhook as deployed: its command line, namespace lookups through the Kubernetes API, and
the manifest's failure policy, probes and RBAC.

The Kubernetes API is a stand-in HTTPS server on 127.0.0.1 (servers/kube_api.py): only the
cluster is mocked; the webhook reads it through the official `kubernetes` client.
"""

import os
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import requests
import yaml
from kubernetes import client

import finops_assets
from finops_assets.admission.kube import KubernetesNamespaceLabels, NamespaceLookupError
from finops_assets.admission.review import NamespaceDirectory
from finops_assets.domain.budgets import Budget
from finops_assets.domain.rules import SHIPPED_RULES_PATH, load_rules_file
from finops_assets_tests.actuate.tls_servers import write_self_signed_cert
from finops_assets_tests.admission.webhook_server import (
    EVENTS_TOKEN,
    RunningWebhook,
    events,
    review,
    start_webhook,
    verdict,
)
from finops_assets_tests.servers.kube_api import TOKEN, FakeKubeApi

MANIFEST = (
    Path(finops_assets.__file__).resolve().parents[1] / "deploy/kubernetes/admission-webhook.yaml"
)
HARD_WEB = Budget(
    "bu-web", "business_unit", "marketing-web", Decimal("1000"), "USD", (100,), "actual", "hard"
)


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write_self_signed_cert(tmp_path_factory.mktemp("admission-deploy"))


@pytest.fixture
def kube(cert: tuple[Path, Path]) -> Iterator[FakeKubeApi]:
    api = FakeKubeApi(
        *cert, namespaces={"web-frontend": {"finops.io/business-unit": "marketing-web"}}
    )
    yield api.start()
    api.stop()


def _client(kube: FakeKubeApi, token: str = TOKEN) -> client.CoreV1Api:
    configuration = client.Configuration()
    configuration.host = kube.url
    configuration.ssl_ca_cert = str(kube.cert)
    configuration.api_key = {"BearerToken": token}
    configuration.api_key_prefix = {"BearerToken": "Bearer"}
    return client.CoreV1Api(client.ApiClient(configuration))


@pytest.fixture
def webhook_with_kube(cert, kube) -> Iterator[tuple[RunningWebhook, KubernetesNamespaceLabels]]:
    lookup = KubernetesNamespaceLabels(_client(kube))
    directory = NamespaceDirectory(
        None, load_rules_file(SHIPPED_RULES_PATH).namespace_units(), lookup.labels
    )
    running, server = start_webhook(cert, directory=directory)
    yield running, lookup
    server.shutdown()
    server.server_close()


def test_the_unit_comes_from_the_api_not_from_a_forged_namespace(webhook_with_kube, kube) -> None:
    webhook, _ = webhook_with_kube
    assert [
        webhook.post("/events", e).json()["outcome"] for e in events(HARD_WEB, {1: "1000"})
    ] == ["applied"]
    forged = review("Namespace", "", operation="UPDATE", uid="ns")
    forged["request"]["object"]["metadata"] = {
        "name": "web-frontend",
        "labels": {"finops.io/business-unit": "search"},
    }
    verdict(webhook, forged)
    denied = verdict(webhook, review("Deployment", "web-frontend"))
    assert denied["allowed"] is False and "marketing-web" in denied["status"]["message"]
    assert verdict(webhook, review("Deployment", "unknown-ns"))["allowed"] is True  # API: 404
    assert verdict(webhook, review("Deployment", "web-frontend"))["allowed"] is False
    assert kube.requests.count("/api/v1/namespaces/web-frontend") == 1  # cached


def test_an_unreachable_api_fails_closed_only_under_a_hard_budget(webhook_with_kube, kube) -> None:
    webhook, _ = webhook_with_kube
    kube.down = True
    calm = verdict(webhook, review("Deployment", "web-frontend"))
    assert calm["allowed"] is True and "503" in calm["warnings"][0]  # nothing is enforced yet
    for event in events(HARD_WEB, {1: "1000"}):
        webhook.post("/events", event)
    strict = verdict(webhook, review("Deployment", "other-ns"))
    assert strict["allowed"] is False and "business unit unknown" in strict["status"]["message"]


def test_a_wrong_service_account_token_is_a_lookup_error(kube) -> None:
    lookup = KubernetesNamespaceLabels(_client(kube, token="stolen"))
    with pytest.raises(NamespaceLookupError, match="401"):
        lookup.labels("web-frontend")


def _start_cli(cert, extra: list[str], env_token: str | None) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "finops_assets.admission", "--cert", str(cert[0])]
    command += ["--key", str(cert[1]), "--port", "0", "--month", "2026-10", *extra]
    env = {k: v for k, v in os.environ.items() if k != "FINOPS_ADMISSION_EVENTS_TOKEN"}
    if env_token is not None:
        env["FINOPS_ADMISSION_EVENTS_TOKEN"] = env_token
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


def test_the_command_refuses_to_start_without_a_token(cert) -> None:
    process = _start_cli(cert, [], env_token=None)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 2 and out == ""
    assert "refusing to start: FINOPS_ADMISSION_EVENTS_TOKEN is not set" in err


def test_the_development_flag_starts_it_with_a_warning_on_loopback(cert) -> None:
    process = _start_cli(cert, ["--insecure-dev-no-token"], env_token=None)
    try:
        assert process.stdout is not None and process.stderr is not None
        line = process.stdout.readline()
        assert line.startswith("finops admission webhook on https://127.0.0.1:")  # the default
        assert "WARNING: no events token" in process.stderr.readline()
    finally:
        process.terminate()
        process.communicate(timeout=30)


def test_the_command_reads_namespaces_through_a_kubeconfig(cert, kube, tmp_path) -> None:
    extra = [
        "--kubernetes-namespaces",
        "kubeconfig",
        "--kubeconfig",
        str(kube.kubeconfig(tmp_path)),
    ]
    process = _start_cli(cert, extra, env_token=EVENTS_TOKEN)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip().rsplit(" ", 1)[-1]
        running = RunningWebhook(url, str(cert[0]), None)  # type: ignore[arg-type]
        for event in events(HARD_WEB, {1: "1000"}):
            assert running.post("/events", event).status_code == 200
        assert verdict(running, review("Deployment", "web-frontend"))["allowed"] is False
        state = requests.get(url + "/state", verify=str(cert[0]), timeout=5)
        assert state.status_code == 401
    finally:
        process.terminate()
        process.communicate(timeout=30)
    assert "/api/v1/namespaces/web-frontend" in kube.requests


def _manifest() -> dict[str, dict]:
    documents = list(yaml.safe_load_all(MANIFEST.read_text(encoding="utf-8")))
    return {f"{d['kind']}/{d['metadata']['name']}": d for d in documents}


def test_the_manifest_fails_closed_for_hard_budget_namespaces_only() -> None:
    hooks = {
        h["name"]: h
        for h in _manifest()["ValidatingWebhookConfiguration/finops-budget-enforcement"]["webhooks"]
    }
    hard, rest = hooks["hard-budgets.finops.io"], hooks["budgets.finops.io"]
    assert hard["failurePolicy"] == "Fail" and rest["failurePolicy"] == "Ignore"
    assert hard["timeoutSeconds"] <= 10 and rest["timeoutSeconds"] <= 10
    selector = {"key": "finops.io/budget-enforcement", "values": ["hard"]}
    assert {**selector, "operator": "In"} in hard["namespaceSelector"]["matchExpressions"]
    assert {**selector, "operator": "NotIn"} in rest["namespaceSelector"]["matchExpressions"]
    for hook in (hard, rest):  # namespaces are no longer sent: nothing is learned from them
        resources = {r for rule in hook["rules"] for r in rule["resources"]}
        assert resources == {"pods", "deployments"}
        assert hook["clientConfig"]["service"]["path"] == "/validate"


def test_the_manifest_probes_binds_and_grants_exactly_namespace_get() -> None:
    manifest = _manifest()
    pod = manifest["Deployment/finops-admission"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert pod["serviceAccountName"] == "finops-admission"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["readinessProbe"]["timeoutSeconds"] <= 5
    command = container["command"]
    assert command[command.index("--host") + 1] == "0.0.0.0"  # in a pod: the pod's own network
    assert command[command.index("--kubernetes-namespaces") + 1] == "in-cluster"
    assert container["env"][0]["name"] == "FINOPS_ADMISSION_EVENTS_TOKEN"
    role = manifest["ClusterRole/finops-admission-namespace-reader"]
    assert role["rules"] == [{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get"]}]
    binding = manifest["ClusterRoleBinding/finops-admission-namespace-reader"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "finops-admission", "namespace": "finops"}
    ]
