"""The admission webhook over real HTTPS: AdmissionReview v1 in the three states, bad input."""

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
import requests

from finops_assets.domain.budgets import Budget
from finops_assets.domain.events import (
    events_frame,
    fired_state,
)
from finops_assets_tests.admission.webhook_server import (
    RunningWebhook,
    events,
    review,
    start_webhook,
    verdict,
)

HARD = Budget(
    "bu-web", "business_unit", "marketing-web", Decimal("1000"), "USD", (50, 100), "actual", "hard"
)
SOFT = Budget(
    "bu-pay", "business_unit", "payments", Decimal("1000"), "USD", (80, 100), "actual", "soft"
)


def send(admission: RunningWebhook, payloads: list[dict]) -> list[str]:
    return [admission.post("/events", p).json()["outcome"] for p in payloads]


def test_no_events_allows_without_warnings(admission: RunningWebhook) -> None:
    assert verdict(admission, review("Deployment", "shop")) == {"uid": "u-1", "allowed": True}


def test_hard_over_denies_new_workloads_with_a_clear_message(admission: RunningWebhook) -> None:
    assert send(admission, events(HARD, {1: "1000"})) == ["applied", "applied"]
    denied = verdict(admission, review("Deployment", "shop"))
    assert denied["allowed"] is False and denied["status"]["code"] == 403
    assert "business unit marketing-web is over a hard budget" in denied["status"]["message"]
    assert "bu-web (2026-10) is at 100%" in denied["status"]["message"]
    assert verdict(admission, review("Pod", "shop"))["allowed"] is False  # a bare pod
    owned = verdict(admission, review("Pod", "shop", owned=True))  # an existing workload heals
    assert owned["allowed"] is True and "over a hard budget" in owned["warnings"][0]
    assert verdict(admission, review("Deployment", "shop", operation="UPDATE"))["allowed"]
    assert verdict(admission, review("Deployment", "payments-api"))["allowed"]  # another unit


def test_soft_over_allows_with_a_warning(admission: RunningWebhook) -> None:
    send(admission, events(SOFT, {1: "1000"}))
    answer = verdict(admission, review("Pod", "payments-api"))  # rules: payments-api -> payments
    assert answer["allowed"] is True
    assert answer["warnings"] == [
        "business unit payments: budget bu-pay (2026-10) is at 100% (actual), soft"
    ]


def test_resolved_allows_again_and_duplicates_change_nothing(admission: RunningWebhook) -> None:
    crossed = events(HARD, {1: "1000"})
    send(admission, crossed)
    assert send(admission, crossed) == ["duplicate", "duplicate"]
    assert verdict(admission, review("Deployment", "shop"))["allowed"] is False
    resolved = events(HARD, {1: "1000", 2: "-200"}, fired_state(events_frame_of(crossed)))
    assert [e["type"] for e in resolved] == ["com.finops.budget.threshold.resolved"]
    send(admission, resolved)
    answer = verdict(admission, review("Deployment", "shop"))
    assert answer["allowed"] is True
    assert answer["warnings"] == [  # still over 50% of a hard budget: a heads-up
        "business unit marketing-web: budget bu-web (2026-10) is at 50% (actual), hard"
    ]


def events_frame_of(payloads: list[dict]) -> pl.DataFrame:
    from cloudevents.core.bindings.http import HTTPMessage, from_structured_event

    parsed = [from_structured_event(HTTPMessage({}, json.dumps(p).encode())) for p in payloads]
    return events_frame(parsed)


def test_a_forged_namespace_review_relabels_nothing(admission: RunningWebhook) -> None:
    send(admission, events(HARD, {1: "1000"}))
    assert verdict(admission, review("Deployment", "shop"))["allowed"] is False
    namespace = review("Namespace", "", operation="UPDATE", uid="ns")
    namespace["request"]["object"]["metadata"] = {
        "name": "shop",
        "labels": {"finops.io/business-unit": "search"},
    }
    assert verdict(admission, namespace)["allowed"] is True  # not enforced, and not learned
    assert verdict(admission, review("Deployment", "shop"))["allowed"] is False


def test_malformed_reviews_get_400_and_the_server_goes_on(admission: RunningWebhook) -> None:
    not_json = admission.post("/validate", b"{not json")
    assert not_json.status_code == 400 and "not JSON" in not_json.json()["error"]
    wrong = review("Pod", "shop")
    wrong["apiVersion"] = "admission.k8s.io/v1beta1"
    answer = admission.post("/validate", wrong)
    assert answer.status_code == 400
    assert "expected apiVersion admission.k8s.io/v1" in answer.json()["error"]
    no_uid = review("Pod", "shop")
    del no_uid["request"]["uid"]
    assert "request.uid is missing" in admission.post("/validate", no_uid).json()["error"]
    assert admission.post("/validate", [1, 2]).status_code == 400
    assert admission.post("/nowhere", {}).status_code == 404
    assert verdict(admission, review("Pod", "shop"))["allowed"] is True


def test_events_need_the_token_and_a_valid_cloudevent(admission: RunningWebhook) -> None:
    payload = events(HARD, {1: "1000"})[1]
    assert admission.post("/events", payload, token="wrong").status_code == 401
    bad = admission.post("/events", {**payload, "specversion": "0.3"})
    assert bad.status_code == 400 and "specversion" in bad.json()["error"]
    incomplete = admission.post("/events", {**payload, "data": {"month": "2026-10"}})
    assert incomplete.status_code == 400 and "budget data incomplete" in incomplete.json()["error"]
    assert verdict(admission, review("Deployment", "shop"))["allowed"] is True  # nothing applied


def test_state_file_survives_a_restart_and_old_months_expire(
    admission_cert: tuple[Path, Path], tmp_path: Path
) -> None:
    state_file = tmp_path / "state.json"
    first, server = start_webhook(admission_cert, state_file)
    send(first, events(HARD, {1: "1000"}))
    server.shutdown()
    server.server_close()
    for month, allowed in (("2026-10", False), ("2026-11", True)):
        again, server = start_webhook(admission_cert, state_file, month=month)
        try:
            assert verdict(again, review("Deployment", "shop"))["allowed"] is allowed
        finally:
            server.shutdown()
            server.server_close()


@pytest.mark.slow
def test_command_line_serves_https(admission_cert: tuple[Path, Path]) -> None:
    cert, key = admission_cert
    command = [sys.executable, "-m", "finops_assets.admission", "--cert", str(cert)]
    command += ["--key", str(key), "--host", "127.0.0.1", "--port", "0", "--month", "2026-10"]
    env = {**os.environ, "FINOPS_ADMISSION_EVENTS_TOKEN": "cli-token"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=Path.cwd(), env=env)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        url = line.strip().rsplit(" ", 1)[-1]
        assert url.startswith("https://127.0.0.1:")
        health = requests.get(url + "/healthz", verify=str(cert), timeout=5)
        assert health.json() == {"status": "ok"}
        answer = requests.post(
            url + "/validate", json=review("Pod", "etl-jobs"), verify=str(cert), timeout=5
        )
        assert answer.json()["response"]["allowed"] is True
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
