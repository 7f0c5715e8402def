"""The admission webhook over HTTPS: POST /events (budget CloudEvents), POST /validate (reviews).

Standard library only (http.server + ssl). Every request is answered: a bad body gets a 400 with
a JSON `error` message, an unexpected failure a 500, and the server goes on serving.
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

from finops_assets.admission.review import (
    AdmissionReviewError,
    NamespaceDirectory,
    admission_response,
    is_new_workload,
    parse_admission_review,
)
from finops_assets.admission.state import Decision, EnforcementState, EventError

MAX_BODY_BYTES = 1 << 20


def current_utc_month() -> str:
    """YYYY-MM of the wall clock in UTC: budgets of earlier months no longer count."""
    return datetime.now(UTC).strftime("%Y-%m")


class AdmissionWebhook:
    """The webhook's logic, thread safe: budget events in, admission decisions out."""

    def __init__(
        self,
        directory: NamespaceDirectory,
        events_token: str = "",
        month: Callable[[], str | None] = current_utc_month,
        state_file: Path | None = None,
    ) -> None:
        self.directory = directory
        self.events_token = events_token
        self.month = month
        self.state_file = state_file
        self._lock = threading.Lock()
        self.state = EnforcementState()
        if state_file is not None and state_file.exists():
            self.state = EnforcementState.from_json(state_file.read_text(encoding="utf-8"))

    def receive_event(self, body: bytes, authorization: str) -> tuple[int, dict[str, Any]]:
        """Apply one structured CloudEvent; 401 on a wrong token, 400 on a bad event."""
        if self.events_token and not hmac.compare_digest(
            authorization.encode(), f"Bearer {self.events_token}".encode()
        ):
            return 401, {"error": "missing or wrong bearer token for /events"}
        try:
            event = json.loads(body)
            with self._lock:
                outcome = self.state.apply(event)
                if self.state_file is not None and outcome == "applied":
                    self._save()
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            return 400, {"error": f"body is not JSON: {error}"}
        except EventError as error:
            return 400, {"error": str(error)}
        return 200, {"id": event["id"], "outcome": outcome}

    def review(self, body: bytes) -> tuple[int, dict[str, Any]]:
        """Answer an AdmissionReview v1; 400 with the reason when it is malformed."""
        try:
            request = parse_admission_review(json.loads(body))
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            return 400, {"error": f"AdmissionReview body is not JSON: {error}"}
        except AdmissionReviewError as error:
            return 400, {"error": f"malformed AdmissionReview: {error}"}
        with self._lock:
            self.directory.learn(request)
            unit = self.directory.business_unit(request.namespace)
            decision = self.state.decide(unit, self.month()) if unit else Decision(True)
        if not decision.allowed and not is_new_workload(request):
            decision = Decision(True, "", (decision.message, *decision.warnings))
        if request.kind not in ("Pod", "Deployment"):
            decision = Decision(True)
        return 200, admission_response(request.uid, decision)

    def snapshot(self) -> dict[str, Any]:
        """The enforcement state as a JSON document."""
        with self._lock:
            return dict(json.loads(self.state.to_json()))

    def _save(self) -> None:
        assert self.state_file is not None
        temporary = self.state_file.with_suffix(".tmp")
        temporary.write_text(self.state.to_json(), encoding="utf-8")
        temporary.replace(self.state_file)


def _handler(webhook: AdmissionWebhook) -> type[BaseHTTPRequestHandler]:
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

        def do_GET(self) -> None:
            if self.path == "/healthz":
                self._send(200, {"status": "ok"})
            elif self.path == "/state":
                self._send(200, webhook.snapshot())
            else:
                self._send(404, {"error": f"no route GET {self.path}"})

        def do_POST(self) -> None:
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if not 0 <= length <= MAX_BODY_BYTES:
                self.close_connection = True
                self._send(413 if length > 0 else 400, {"error": "bad or too large body"})
                return
            body = self.rfile.read(length)
            try:
                if self.path == "/events":
                    auth = self.headers.get("Authorization", "")
                    self._send(*webhook.receive_event(body, auth))
                elif self.path.split("?")[0] == "/validate":
                    self._send(*webhook.review(body))
                else:
                    self._send(404, {"error": f"no route POST {self.path}"})
            except Exception as error:  # never let one request take the server down
                self._send(500, {"error": f"{type(error).__name__}: {error}"})

    return Handler


class _TlsServer(ThreadingHTTPServer):
    """Handshakes in the request's own thread, so a silent client cannot stall the accept loop."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: Any, context: ssl.SSLContext) -> None:
        super().__init__(address, handler)
        self.context = context

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(10)
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # a failed handshake (plain HTTP, wrong CA, timeout) ends this connection only
        try:
            super().finish_request(tls, client_address)
        finally:
            tls.close()


def make_server(
    webhook: AdmissionWebhook, host: str, port: int, cert: Path, key: Path
) -> ThreadingHTTPServer:
    """An HTTPS server (TLS 1.2+) for `webhook` on host:port (port 0: any free port)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(certfile=str(cert), keyfile=str(key))
    return _TlsServer((host, port), _handler(webhook), context)
