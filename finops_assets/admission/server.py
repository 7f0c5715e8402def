"""The admission webhook over HTTPS: POST /events (budget CloudEvents), POST /validate (reviews).

Standard library only (http.server + ssl). Every request is answered: a bad body gets a 4xx with
a JSON `error` message (see limits.py), an unexpected failure a 500 that names no detail, and
the server goes on serving. GET /state needs the events token; /healthz and /readyz do not.
"""

import hmac
import json
import ssl
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from finops_assets.admission.kube import NamespaceLookupError
from finops_assets.admission.limits import (
    CLOUDEVENTS_TYPES,
    JSON_TYPES,
    HttpRefusal,
    body_length,
    check_content_type,
    parse_json,
    read_body,
)
from finops_assets.admission.review import (
    ENFORCED_KINDS,
    AdmissionRequest,
    AdmissionReviewError,
    NamespaceDirectory,
    admission_response,
    is_new_workload,
    parse_admission_review,
)
from finops_assets.admission.state import (
    Decision,
    EnforcementState,
    EventConflictError,
    EventError,
)
from finops_assets.admission.transport import ServerLimits, TlsServer


def current_utc_month() -> str:
    """YYYY-MM of the wall clock in UTC: budgets of earlier months no longer count."""
    return datetime.now(UTC).strftime("%Y-%m")


class AdmissionWebhook:
    """The webhook's logic, thread safe: budget events in, admission decisions out.

    `events_token` guards POST /events and GET /state; without one the webhook refuses to exist
    unless `allow_unauthenticated` (a development flag) says otherwise.
    """

    def __init__(
        self,
        directory: NamespaceDirectory,
        events_token: str = "",
        month: Callable[[], str | None] = current_utc_month,
        state_file: Path | None = None,
        allow_unauthenticated: bool = False,
    ) -> None:
        if not events_token and not allow_unauthenticated:
            raise ValueError(
                "refusing to start without an events token (FINOPS_ADMISSION_EVENTS_TOKEN): "
                "anyone could post budget events; --insecure-dev-no-token allows it in development"
            )
        self.directory = directory
        self.events_token = events_token
        self.month = month
        self.state_file = state_file
        self._lock = threading.Lock()
        self.state = EnforcementState()
        if state_file is not None and state_file.exists():
            self.state = EnforcementState.from_json(state_file.read_text(encoding="utf-8"))

    def authorized(self, authorization: str) -> bool:
        """True when `authorization` is `Bearer <events token>` (or no token is configured)."""
        if not self.events_token:
            return True
        expected = f"Bearer {self.events_token}".encode()
        return hmac.compare_digest(authorization.encode("utf-8", "replace"), expected)

    def receive_event(self, body: bytes, authorization: str) -> tuple[int, dict[str, Any]]:
        """Apply one structured CloudEvent: 401 wrong token, 400 bad event, 409 reused id."""
        if not self.authorized(authorization):
            return 401, {"error": "missing or wrong bearer token for /events"}
        try:
            event = parse_json(body, "CloudEvent")
            with self._lock:
                outcome = self.state.apply(event)
                if self.state_file is not None and outcome == "applied":
                    self._save()
        except HttpRefusal as error:
            return error.status, {"error": str(error)}
        except EventConflictError as error:
            return 409, {"error": str(error)}
        except EventError as error:
            return 400, {"error": str(error)}
        return 200, {"id": event["id"], "outcome": outcome}

    def review(self, body: bytes) -> tuple[int, dict[str, Any]]:
        """Answer an AdmissionReview v1; 400 with the reason when it is malformed."""
        try:
            request = parse_admission_review(parse_json(body, "AdmissionReview"))
        except HttpRefusal as error:
            return error.status, {"error": str(error)}
        except AdmissionReviewError as error:
            return 400, {"error": f"malformed AdmissionReview: {error}"}
        if request.kind not in ENFORCED_KINDS:
            return 200, admission_response(request.uid, Decision(True))
        decision = self._decide(request)
        if not decision.allowed and not is_new_workload(request):
            decision = Decision(True, "", (decision.message, *decision.warnings))
        return 200, admission_response(request.uid, decision)

    def _decide(self, request: AdmissionRequest) -> Decision:
        month = self.month()
        try:
            unit = self.directory.business_unit(request.namespace)
        except NamespaceLookupError as error:
            with self._lock:
                enforcing = self.state.any_denied(month)
            if enforcing:  # fail closed only while some unit is over a hard budget
                return Decision(
                    False, f"denied: business unit unknown while hard budgets are enforced: {error}"
                )
            return Decision(True, "", (f"finops: business unit unknown: {error}",))
        with self._lock:
            return self.state.decide(unit, month) if unit else Decision(True)

    def snapshot(self) -> dict[str, Any]:
        """The enforcement state as a JSON document."""
        with self._lock:
            return dict(json.loads(self.state.to_json()))

    def _save(self) -> None:
        if self.state_file is None:
            return
        temporary = self.state_file.with_suffix(".tmp")
        temporary.write_text(self.state.to_json(), encoding="utf-8")
        temporary.replace(self.state_file)


def _handler(webhook: AdmissionWebhook, body_seconds: float) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet: no access log
            return

        def _send(self, status: int, document: dict[str, Any]) -> None:
            body = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def handle_one_request(self) -> None:
            arm = getattr(self.server, "arm", None)
            if arm is not None:
                arm(self.connection)
            super().handle_one_request()

        def do_GET(self) -> None:
            if self.path in ("/healthz", "/readyz"):
                self._send(200, {"status": "ok"})
            elif self.path == "/state":
                if webhook.authorized(self.headers.get("Authorization", "")):
                    self._send(200, webhook.snapshot())
                else:
                    self._send(401, {"error": "missing or wrong bearer token for /state"})
            else:
                self._send(404, {"error": "no such route"})

        def _body(self, allowed_types: tuple[str, ...]) -> bytes:
            length = body_length(
                self.headers.get("Content-Length"), self.headers.get("Transfer-Encoding")
            )
            body = read_body(self.rfile, length, body_seconds)  # read first: the answer arrives
            check_content_type(self.headers.get("Content-Type"), allowed_types)
            return body

        def do_POST(self) -> None:
            route = self.path.split("?")[0]
            try:
                if route == "/events":
                    body = self._body(CLOUDEVENTS_TYPES)
                    self._send(*webhook.receive_event(body, self.headers.get("Authorization", "")))
                elif route == "/validate":
                    self._send(*webhook.review(self._body(JSON_TYPES)))
                else:
                    self.close_connection = True
                    self._send(404, {"error": "no such route"})
            except HttpRefusal as refusal:
                self.close_connection = refusal.status != 415  # else the body may be unread
                self._send(refusal.status, {"error": str(refusal)})
            except Exception as error:  # never let one request take the server down
                self.close_connection = True
                self._send(500, {"error": f"internal error ({type(error).__name__})"})

    return Handler


def make_server(
    webhook: AdmissionWebhook,
    host: str,
    port: int,
    cert: Path,
    key: Path,
    limits: ServerLimits | None = None,
) -> ThreadingHTTPServer:
    """An HTTPS server (TLS 1.2+) for `webhook` on host:port (port 0: any free port)."""
    limits = limits or ServerLimits()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(certfile=str(cert), keyfile=str(key))
    handler = _handler(webhook, limits.request_seconds)
    return TlsServer((host, port), handler, context, limits)
