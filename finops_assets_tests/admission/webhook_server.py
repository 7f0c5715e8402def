"""Test helper: the admission webhook served over real HTTPS on 127.0.0.1 (self-signed)."""

import json
import threading
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import polars as pl
import requests

from finops_assets.admission.review import BUSINESS_UNIT_LABEL, NamespaceDirectory
from finops_assets.admission.server import AdmissionWebhook, make_server
from finops_assets.admission.transport import ServerLimits
from finops_assets.domain.budgets import Budget, budget_status
from finops_assets.domain.events import budget_threshold_events, event_to_json
from finops_assets.domain.money import MONEY
from finops_assets.domain.rules import SHIPPED_RULES_PATH, load_rules_file

EVENTS_TOKEN = "test-token"


@dataclass
class RunningWebhook:
    """A started webhook: its base URL, the CA file to trust, and the logic object."""

    url: str
    ca: str
    webhook: AdmissionWebhook

    def post(self, path: str, body: Any, token: str = EVENTS_TOKEN) -> requests.Response:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        return requests.post(self.url + path, data=data, headers=headers, verify=self.ca, timeout=5)


def start_webhook(
    cert: tuple[Path, Path],
    state_file: Path | None = None,
    month: str | None = "2026-10",
    directory: NamespaceDirectory | None = None,
    limits: ServerLimits | None = None,
) -> tuple[RunningWebhook, ThreadingHTTPServer]:
    """Serve a webhook whose namespace `shop` is labelled marketing-web (rules map the rest)."""
    directory = directory or NamespaceDirectory(
        {"shop": {BUSINESS_UNIT_LABEL: "marketing-web"}},
        load_rules_file(SHIPPED_RULES_PATH).namespace_units(),
    )
    webhook = AdmissionWebhook(
        directory, events_token=EVENTS_TOKEN, month=lambda: month, state_file=state_file
    )
    server = make_server(webhook, "127.0.0.1", 0, *cert, limits=limits)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    return RunningWebhook(f"https://127.0.0.1:{server.server_port}", str(cert[0]), webhook), server


def review(
    kind: str, namespace: str, operation: str = "CREATE", owned: bool = False, uid: str = "u-1"
) -> dict[str, Any]:
    """An AdmissionReview v1 request as the API server sends it."""
    metadata: dict[str, Any] = {"name": "web-1", "namespace": namespace}
    if owned:
        metadata["ownerReferences"] = [{"kind": "ReplicaSet", "name": "web-5d9", "uid": "r"}]
    group, version = ("apps", "v1") if kind == "Deployment" else ("", "v1")
    return {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": group, "version": version, "kind": kind},
            "resource": {"group": group, "version": version, "resource": kind.lower() + "s"},
            "namespace": namespace,
            "operation": operation,
            "userInfo": {"username": "dev@example.com"},
            "object": {"apiVersion": "v1", "kind": kind, "metadata": metadata},
        },
    }


def verdict(admission: RunningWebhook, body: dict[str, Any]) -> dict[str, Any]:
    answer = admission.post("/validate", body)
    assert answer.status_code == 200, answer.text
    document = answer.json()
    assert document["apiVersion"] == "admission.k8s.io/v1" and document["kind"] == "AdmissionReview"
    assert document["response"]["uid"] == body["request"]["uid"]
    return document["response"]


def events(budget: Budget, costs: dict[int, str], state: dict | None = None) -> list[dict]:
    """Structured JSON of the budget's October 2026 events on the last day of `costs`."""
    frame = pl.DataFrame(
        {
            "x_charge_date": [date(2026, 10, d) for d in costs],
            "x_provider": ["aws"] * len(costs),
            "x_business_unit": [budget.scope_value] * len(costs),
            "x_effective_cost_base": [Decimal(v) for v in costs.values()],
        },
        schema_overrides={"x_effective_cost_base": MONEY},
    )
    status = budget_status(frame, [budget], date(2026, 10, max(costs)))
    return [json.loads(event_to_json(e)) for e in budget_threshold_events(status, [budget], state)]
