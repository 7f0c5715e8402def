"""A stand-in Kubernetes API server on 127.0.0.1: GET /api/v1/namespaces/{name} over HTTPS.

Only the cluster is mocked: the webhook talks to it through the official `kubernetes` client,
with a bearer token and a CA bundle, exactly as it does in a pod. It answers a Namespace object,
a 404 Status for an unknown namespace, 401 without the token, and 503 while `down` is set.
"""

import json
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

TOKEN = "sa-token-for-tests"
PREFIX = "/api/v1/namespaces/"


@dataclass
class FakeKubeApi:
    """Namespaces and their labels; `requests` counts the reads (to see the cache work)."""

    cert: Path
    key: Path
    namespaces: dict[str, dict[str, str]] = field(default_factory=dict)
    down: bool = False
    requests: list[str] = field(default_factory=list)

    def start(self) -> "FakeKubeApi":
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def _answer(self, status: int, document: dict[str, Any]) -> None:
                body = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                api.requests.append(self.path)
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    self._answer(401, _status(401, "Unauthorized"))
                elif api.down:
                    self._answer(503, _status(503, "ServiceUnavailable"))
                elif not self.path.startswith(PREFIX):
                    self._answer(404, _status(404, "NotFound"))
                else:
                    name = self.path[len(PREFIX) :].split("?")[0]
                    if name not in api.namespaces:
                        self._answer(404, _status(404, "NotFound"))
                    else:
                        metadata = {"name": name, "labels": api.namespaces[name]}
                        self._answer(
                            200, {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata}
                        )

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(self.cert), str(self.key))
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.server.server_port}"

    def kubeconfig(self, folder: Path) -> Path:
        """A kubeconfig file pointing at this server (token auth, this CA)."""
        path = folder / "kubeconfig"
        document = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "local",
                    "cluster": {"server": self.url, "certificate-authority": str(self.cert)},
                }
            ],
            "users": [{"name": "webhook", "user": {"token": TOKEN}}],
            "contexts": [{"name": "local", "context": {"cluster": "local", "user": "webhook"}}],
            "current-context": "local",
        }
        path.write_text(json.dumps(document), encoding="utf-8")
        return path

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def _status(code: int, reason: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "reason": reason,
        "code": code,
    }
