"""Azurite's blob service (npm azurite@3, installed by scripts/install-tools.sh) on 127.0.0.1.

In-memory, port chosen by the OS (`--blobPort 0`): the port is read from Azurite's stdout, which
keeps being drained by a thread so that the pipe never fills.
"""

import contextlib
import re
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

from finops_assets_tests.tools import require_tool

REPO_ROOT = Path(__file__).resolve().parents[2]
AZURITE_BLOB = REPO_ROOT / ".venv-tools" / "npm" / "node_modules" / ".bin" / "azurite-blob"
# Azurite's documented development account (public, not a secret).
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
_LISTENING = re.compile(r"(?:listens on|listening at) https?://127\.0\.0\.1:(\d+)")


def connection_string(port: int) -> str:
    """The connection string of the development account on `port`."""
    return (
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
        f"BlobEndpoint=http://127.0.0.1:{port}/{ACCOUNT};"
    )


def _drain(stream, found: list[int], ready: threading.Event) -> None:
    for line in stream:
        match = _LISTENING.search(line)
        if match and not ready.is_set():
            found.append(int(match.group(1)))
            ready.set()
    ready.set()  # the process ended


@contextlib.contextmanager
def azurite_blob(workdir: Path) -> Iterator[str]:
    """Run Azurite's blob service; yields a connection string, stops it on exit."""
    require_tool("azurite")
    process = subprocess.Popen(
        [
            str(AZURITE_BLOB),
            *("--inMemoryPersistence", "--blobHost", "127.0.0.1", "--blobPort", "0"),
            *("--skipApiVersionCheck", "--disableTelemetry", "--extentMemoryLimit", "256"),
        ],
        cwd=workdir,  # anything Azurite writes stays in the test's folder
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    found: list[int] = []
    ready = threading.Event()
    drainer = threading.Thread(target=_drain, args=(process.stdout, found, ready), daemon=True)
    drainer.start()
    try:
        if not ready.wait(30) or not found:
            raise RuntimeError(f"Azurite did not start (exit code {process.poll()})")
        yield connection_string(found[0])
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        drainer.join(timeout=5)
