"""A local AWS Cost Explorer speaking JSON 1.1 on 127.0.0.1, scriptable for failure tests.

Real boto3 talks to it unchanged (AWS_ENDPOINT_URL_COST_EXPLORER=server.url). Script it with:
pages (GetCostAndUsage pages, linked by tokens the server assigns), throttle_first (the first k
calls answer ThrottlingException), throttle_forever, drop_calls (call numbers whose connection
is reset without a response), error_type (the 400 error the throttled calls answer, default
ThrottlingException), server_error_calls (HTTP 500), delay (seconds per call, for
concurrency tests). It counts calls and the most requests in flight at once.
"""

import json
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TARGET_PREFIX = "AWSInsightsIndexService."


@dataclass
class Script:
    """What the server answers; change fields between calls as a test needs."""

    pages: list[dict[str, Any]] = field(default_factory=list)
    forecast: dict[str, Any] = field(default_factory=dict)
    throttle_first: int = 0
    throttle_forever: bool = False
    error_type: str = "ThrottlingException"  # what throttle_first / throttle_forever answer
    drop_calls: set[int] = field(default_factory=set)
    server_error_calls: set[int] = field(default_factory=set)
    delay: float = 0.0
    pages_by_day: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by Start day
    throttle_days: set[str] = field(default_factory=set)  # days whose every call is throttled


class CostExplorerServer:
    """http.server in a thread on 127.0.0.1:<free port>; use as a context manager."""

    def __init__(self, script: Script | None = None):
        self.script = script or Script()
        self.calls = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.requests: list[tuple[str, dict[str, Any]]] = []  # (operation, request body)
        self.sent: list[bytes] = []  # bodies of successful GetCostAndUsage answers
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def __enter__(self) -> "CostExplorerServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def page_body(self, index: int, day: str | None = None) -> bytes:
        """Page `index` (0-based) of `day` (pages_by_day, else pages), with its NextPageToken."""
        pages = self.script.pages_by_day.get(day or "", self.script.pages)
        page = dict(pages[index])
        page.pop("NextPageToken", None)
        if index + 1 < len(pages):
            page["NextPageToken"] = f"page-{index + 1}"
        return json.dumps(page).encode()

    def answer(self, operation: str, request: dict[str, Any]) -> tuple[int, bytes | None]:
        """(HTTP status, body) for one call; body None means reset the connection."""
        with self._lock:
            self.calls += 1
            number = self.calls
            self.requests.append((operation, request))
        script = self.script
        if number in script.drop_calls:
            return 0, None
        day = (request.get("TimePeriod") or {}).get("Start")
        throttled = day in script.throttle_days
        if script.throttle_forever or number <= script.throttle_first or throttled:
            return 400, _error(script.error_type, "Rate exceeded")
        if number in script.server_error_calls:
            return 500, _error("InternalServerError", "try again")
        if operation == "GetCostForecast":
            return 200, json.dumps(script.forecast).encode()
        if operation != "GetCostAndUsage":
            return 400, _error("UnknownOperationException", operation)
        token = request.get("NextPageToken")
        index = int(token.split("-")[1]) if token else 0
        body = self.page_body(index, day)
        with self._lock:
            self.sent.append(body)
        return 200, body


def _error(kind: str, message: str) -> bytes:
    return json.dumps({"__type": kind, "message": message}).encode()


def _handler_for(server: CostExplorerServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            length = int(self.headers.get("Content-Length") or 0)
            request = json.loads(self.rfile.read(length) or b"{}")
            operation = self.headers.get("X-Amz-Target", "").removeprefix(TARGET_PREFIX)
            with server._lock:
                server.in_flight += 1
                server.max_in_flight = max(server.max_in_flight, server.in_flight)
            try:
                if server.script.delay:
                    time.sleep(server.script.delay)
                status, body = server.answer(operation, request)
            finally:
                with server._lock:
                    server.in_flight -= 1
            if body is None:  # reset: RST instead of an answer
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.close_connection = True
                return
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("x-amzn-RequestId", f"req-{server.calls}")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            """Quiet: tests read the counters, not the log."""

    return Handler
