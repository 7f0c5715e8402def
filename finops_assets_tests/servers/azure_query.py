"""A local Azure Cost Management Query API over https (self-signed) for the real azure SDK.

POST /{scope}/providers/Microsoft.CostManagement/query answers the queued rows `page_rows` at a
time with an absolute `properties.nextLink` carrying `$skiptoken`; `throttle` scripts 429s with
Retry-After before given pages; every request (path, query, headers, JSON body) is recorded.
"""

import contextlib
import json
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from finops_assets_tests.actuate.tls_servers import write_self_signed_cert

COLUMNS = [
    ("Cost", "Number"),
    ("CostUSD", "Number"),
    ("UsageDate", "Number"),
    ("ResourceId", "String"),
    ("ServiceName", "String"),
    ("Currency", "String"),
]


@dataclass
class QueryApiState:
    """Rows to serve (JSON text of each row), paging and scripted throttling; recorded requests."""

    rows: list[str] = field(default_factory=list)
    page_rows: int = 1000
    throttle: dict[int, int] = field(default_factory=dict)  # page number -> 429s before it
    retry_after: str = "1"
    requests: list[dict] = field(default_factory=list)
    url: str = ""

    def page(self, offset: int) -> bytes:
        end = offset + self.page_rows
        link = None
        if end < len(self.rows):
            link = f"{self.url}/{self.requests[-1]['path'].lstrip('/')}?api-version=2025-03-01&$skiptoken={end}"
        head = json.dumps(
            {
                "id": "query/1",
                "name": "1",
                "type": "Microsoft.CostManagement/query",
                "properties": {
                    "nextLink": link,
                    "columns": [{"name": n, "type": t} for n, t in COLUMNS],
                },
            }
        )
        rows = ",".join(self.rows[offset:end])
        return f'{head[:-2]}, "rows": [{rows}]}}}}'.encode()


def _handler(state: QueryApiState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def do_POST(self):
            split = urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            query = {k: v[0] for k, v in parse_qs(split.query).items()}
            state.requests.append(
                {
                    "path": split.path,
                    "query": query,
                    "auth": self.headers.get("Authorization"),
                    "body": json.loads(body),
                }
            )
            if not split.path.endswith("/providers/Microsoft.CostManagement/query"):
                return self._send(404, b'{"error": {"code": "NotFound", "message": "no route"}}')
            offset = int(query.get("$skiptoken", 0))
            number = offset // state.page_rows + 1
            if state.throttle.get(number, 0) > 0:
                state.throttle[number] -= 1
                return self._send(
                    429,
                    b'{"error": {"code": "429", "message": "Too many requests"}}',
                    {"Retry-After": state.retry_after},
                )
            self._send(200, state.page(offset))

        def _send(self, status: int, data: bytes, headers: dict | None = None):
            self.send_response(status)
            for key, value in {"Content-Type": "application/json", **(headers or {})}.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


def self_signed_cert(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (and localhost) and its key, written as PEM files."""
    return write_self_signed_cert(folder)


@contextlib.contextmanager
def azure_query_server(cert: Path, key: Path, state: QueryApiState) -> Iterator[QueryApiState]:
    """Serve `state` over https on 127.0.0.1 (a free port); stops on exit."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    state.url = f"https://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
