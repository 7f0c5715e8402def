"""Test servers: a self-signed certificate and an HTTPS server on 127.0.0.1 that records requests."""

import datetime as dt
import ipaddress
import json
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def write_self_signed_cert(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost: (cert.pem, key.pem)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class Received:
    """One request the recording server got."""

    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class RecordingServer:
    """HTTPS server that records every POST and answers from `statuses` (then `default_status`).

    A request answered with an error status is recorded in `rejected`, not in `received`. With
    `echo`, an error answer repeats the whole request (path, headers, body) in its reason phrase
    and body, as some proxies' error pages do: the secrets then come back in the answer.
    """

    cert: Path
    key: Path
    port: int = 0
    default_status: int = 200
    statuses: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    rejected: list[Received] = field(default_factory=list)
    echo: bool = False
    delays: list[float] = field(default_factory=list)  # seconds to wait before answering, in order
    arrived: list[str] = field(default_factory=list)  # paths of requests as they arrive

    def start(self) -> "RecordingServer":
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                recorder.arrived.append(self.path)
                if recorder.delays:
                    time.sleep(recorder.delays.pop(0))
                status = recorder.statuses.pop(0) if recorder.statuses else recorder.default_status
                record = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                (recorder.received if status < 300 else recorder.rejected).append(record)
                answer = b'{"status":"success"}' if status < 300 else b'{"error":"down"}'
                echoed = f"{self.path} {dict(self.headers)} ".encode() + body
                if recorder.echo and status >= 300:
                    answer = b"request was: " + echoed
                    reason = echoed.decode("latin-1").replace("\r", " ").replace("\n", " ")
                    self.send_response(status, reason[:2000])
                else:
                    self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(self.cert), str(self.key))
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.server.server_port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()
