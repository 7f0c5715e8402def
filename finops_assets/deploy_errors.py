"""What the startup checks share: their error, their probe timeout, a one-line reason, the
setting a source probe names, and a bounded TCP reach of an endpoint."""

import socket
from collections.abc import Mapping
from urllib.parse import urlsplit

PROBE_TIMEOUT_SECONDS = 5


class StartupCheckError(RuntimeError):
    """The deployment cannot work as configured; the message says what and which setting."""


def first_line(error: BaseException) -> str:
    """The first line of an error's text (its type name when it has none)."""
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def source_setting(source_locations: Mapping[str, str], source: str) -> str:
    """`FINOPS_SOURCE_<SOURCE>=<location>`: the setting a source probe's failure names."""
    return f"FINOPS_SOURCE_{source.upper()}={source_locations[source]}"


def sources_by_bucket(source_locations: Mapping[str, str], scheme: str) -> dict[str, list[str]]:
    """bucket (or container) -> the sources read from it, for locations `<scheme>://...`."""
    buckets: dict[str, list[str]] = {}
    for source, location in sorted(source_locations.items()):
        if location.lower().startswith(f"{scheme}://"):
            bucket = location.split("://", 1)[1].split("/", 1)[0].split("?", 1)[0]
            buckets.setdefault(bucket, []).append(source)
    return buckets


def reach_endpoint(url: str, timeout: float = PROBE_TIMEOUT_SECONDS) -> None:
    """Open (and close) a TCP connection to the host and port of `url`; OSError if none."""
    parts = urlsplit(url)
    if not parts.hostname:
        raise OSError(f"{url!r} names no host")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    with socket.create_connection((parts.hostname, port), timeout=timeout):
        pass
