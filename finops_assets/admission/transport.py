"""The webhook's HTTPS server with bounded resources (connections, read time, request time)."""

import contextlib
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class ServerLimits:
    """Resource bounds of the HTTPS server (seconds, connections)."""

    read_seconds: float = 10.0
    request_seconds: float = 20.0
    max_connections: int = 256


class TlsServer(ThreadingHTTPServer):
    """HTTPS with bounded resources: handshakes in the connection's own thread (a silent client
    cannot stall the accept loop), at most `max_connections` at once (more are closed at once),
    each socket read bounded by `read_seconds`, and each request by `request_seconds` in total
    (a reaper thread cuts a connection that drips its headers or body: slowloris).
    """

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: Any,
        context: ssl.SSLContext,
        limits: ServerLimits,
    ) -> None:
        super().__init__(address, handler)
        self.context = context
        self.limits = limits
        self._slots = threading.BoundedSemaphore(limits.max_connections)
        self._deadlines: dict[ssl.SSLSocket, float] = {}
        self._deadlines_lock = threading.Lock()
        self._stopped = threading.Event()
        threading.Thread(target=self._reap, name="admission-reaper", daemon=True).start()

    def arm(self, connection: ssl.SSLSocket) -> None:
        """Start the clock of one request on `connection`."""
        with self._deadlines_lock:
            self._deadlines[connection] = time.monotonic() + self.limits.request_seconds

    def _reap(self) -> None:
        while not self._stopped.wait(0.2):
            now = time.monotonic()
            with self._deadlines_lock:
                late = [c for c, deadline in self._deadlines.items() if deadline < now]
                for connection in late:
                    del self._deadlines[connection]
            for connection in late:
                with contextlib.suppress(OSError):  # the base shutdown keeps the TLS object
                    socket.socket.shutdown(connection, socket.SHUT_RDWR)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)  # over max_connections: refused at once
            return
        try:
            super().process_request(request, client_address)
        except Exception:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(self.limits.read_seconds)
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # a failed handshake (plain HTTP, wrong CA, timeout) ends this connection only
        try:
            super().finish_request(tls, client_address)
        except OSError:
            pass  # a connection cut by the reaper or by the client ends here
        finally:
            with self._deadlines_lock:
                self._deadlines.pop(tls, None)
            _lingering_close(tls)

    def server_close(self) -> None:
        self._stopped.set()
        super().server_close()


def _lingering_close(connection: ssl.SSLSocket, seconds: float = 0.5) -> None:
    """Close after the answer is out: stop writing, drain what the client still sends (bounded).

    A plain close with unread bytes (a refused body) sends a TCP reset, which can destroy the
    4xx answer before the client reads it.
    """
    with contextlib.suppress(OSError):
        socket.socket.shutdown(connection, socket.SHUT_WR)
        connection.settimeout(seconds)
        deadline, drained = time.monotonic() + seconds, 0
        while time.monotonic() < deadline and drained < (1 << 21):
            chunk = socket.socket.recv(connection, 1 << 16)
            if not chunk:
                break
            drained += len(chunk)
    connection.close()
