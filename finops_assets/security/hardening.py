"""Guards for untrusted input: landing paths, spreadsheet cells, sink URLs and gzip payloads.

Every refusal raises a subclass of `HardeningError` (a `ValueError`) whose message names the
input and the rule it broke, so a quarantined file or a failed run says why.
"""

from __future__ import annotations

import ipaddress
import re
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.parse import urlsplit


class HardeningError(ValueError):
    """Untrusted input refused by a hardening rule."""


class UnsafePathError(HardeningError):
    """A landing key that could write or read outside the landing root."""


class UnsafeUrlError(HardeningError):
    """A sink URL that is not https on an allowlisted, non-internal host."""


class GzipBombError(HardeningError):
    """A gzip payload that inflates past the allowed size, or is not valid gzip."""


LANDING_KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._=/-]*$")
MAX_KEY_LENGTH = 1024  # the S3 and GCS object key limit


def safe_landing_path(root: Path, relative_key: str) -> Path:
    """The path of `relative_key` under `root`, refusing anything that could leave `root`.

    Refused: names outside LANDING_KEY_PATTERN (which also rules out absolute paths and
    backslashes), empty, `.` or `..` segments, and symlinks resolving outside `root`.
    """
    if len(relative_key) > MAX_KEY_LENGTH:
        raise UnsafePathError(
            f"landing key of {len(relative_key)} characters: over {MAX_KEY_LENGTH}"
        )
    if relative_key.startswith("/"):
        raise UnsafePathError(f"landing key {relative_key!r} is absolute: keys are relative")
    if not LANDING_KEY_PATTERN.fullmatch(relative_key):
        raise UnsafePathError(
            f"landing key {relative_key!r} does not match {LANDING_KEY_PATTERN.pattern}"
        )
    segments = relative_key.split("/")
    if any(segment in ("", ".", "..") for segment in segments):
        raise UnsafePathError(
            f"landing key {relative_key!r} has an empty, '.' or '..' segment (path traversal)"
        )
    base = root.resolve()
    resolved = (base / relative_key).resolve()
    if not resolved.is_relative_to(base):
        raise UnsafePathError(
            f"landing key {relative_key!r} resolves to {resolved}, outside {base} (symlink)"
        )
    return resolved


_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def neutralize_formula(cell: str) -> str:
    """The cell, prefixed with a single quote if a spreadsheet would run it as a formula.

    Per the OWASP CSV injection guidance: cells starting with =, +, -, @, tab or carriage
    return. A plain signed number such as '-12.50' (a credit) is left alone: it is money.
    """
    if cell.startswith(_FORMULA_TRIGGERS) and not _PLAIN_NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


# Never allowed, even if allowlisted: cloud metadata, link-local, private and shared ranges.
_BLOCKED_NETWORKS = tuple(
    ipaddress.ip_network(net)
    for net in (
        "169.254.0.0/16",
        "fd00:ec2::254/128",
        "fe80::/10",
        "fc00::/7",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "0.0.0.0/8",
    )
)
# Allowed only when the exact address is on the allowlist (a local test server).
_LOOPBACK_NETWORKS = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
_HOST_PATTERN = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")


def _host_allowed(host: str, allowlist: Sequence[str]) -> bool:
    for entry in allowlist:
        entry = entry.lower().rstrip(".").strip("[]")
        if entry.startswith("*."):
            suffix = entry[1:]
            if suffix.count(".") < 2:
                raise UnsafeUrlError(f"allowlist entry {entry!r} is too broad: name a domain")
            if host.endswith(suffix):
                return True
        elif host == entry:
            return True
    return False


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _check_ip_literal(url: str, host: str, allowlist: Sequence[str]) -> None:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if all(_NUMERIC_LABEL.fullmatch(label) for label in host.split(".")):
            raise UnsafeUrlError(
                f"sink URL {url!r}: host {host!r} is a numeric address in a non-standard form"
            ) from None
        return
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(address in network for network in _BLOCKED_NETWORKS):
        raise UnsafeUrlError(
            f"sink URL {url!r}: {address} is a metadata, link-local or private address"
        )
    listed = {entry.strip("[]") for entry in allowlist}
    if any(address in network for network in _LOOPBACK_NETWORKS) and host not in listed:
        raise UnsafeUrlError(f"sink URL {url!r}: loopback {address} is not explicitly allowlisted")


def check_sink_url(url: str, allowlist: Sequence[str]) -> str:
    """`url` if it is https, has no credentials and its host is allowlisted and not internal.

    Allowlist entries are exact hosts or `*.domain.tld` (any subdomain, not the domain
    itself). IP literals in metadata, link-local and private ranges are refused even if
    listed; loopback only when listed exactly. Hosts are not resolved (no DNS here).
    """
    try:
        parts = urlsplit(url)
        _ = parts.port  # parsed lazily: an invalid port raises here
    except ValueError as error:
        raise UnsafeUrlError(f"sink URL {url!r} is malformed: {error}") from None
    if parts.scheme != "https":
        raise UnsafeUrlError(f"sink URL {url!r}: scheme {parts.scheme!r} is not https")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrlError(f"sink URL {url!r}: credentials in the URL are refused")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeUrlError(f"sink URL {url!r} has no host")
    if not _is_ip_literal(host) and not _HOST_PATTERN.fullmatch(host):
        raise UnsafeUrlError(f"sink URL {url!r}: host {host!r} is not a plain ASCII host name")
    _check_ip_literal(url, host, allowlist)
    if not _host_allowed(host, allowlist):
        raise UnsafeUrlError(f"sink URL {url!r}: host {host!r} is not on the allowlist")
    return url


_GZIP_WBITS = 16 + zlib.MAX_WBITS
_CHUNK = 1 << 16


MAX_INFLATION_RATIO = 100  # billing CSVs inflate 2x to 45x; gzip's most is about 1030x
RATIO_FLOOR_BYTES = 16 << 20  # a file may always inflate this far, whatever its ratio


def inflation_limit(
    compressed_bytes: int, max_bytes: int, max_ratio: int = MAX_INFLATION_RATIO
) -> int:
    """How far `compressed_bytes` of gzip may inflate: the absolute cap, and the ratio cap
    (`max_ratio` times the compressed size, but never less than RATIO_FLOOR_BYTES)."""
    return min(max_bytes, max(RATIO_FLOOR_BYTES, max_ratio * compressed_bytes))


def bomb_message(compressed_bytes: int, max_bytes: int, max_ratio: int) -> str:
    """Why a payload was refused: which cap it broke."""
    limit = inflation_limit(compressed_bytes, max_bytes, max_ratio)
    if limit < max_bytes:
        return (
            f"gzip payload of {compressed_bytes} bytes inflates past {limit} bytes: more than "
            f"{max_ratio} times its size (a gzip bomb)"
        )
    return f"gzip payload of {compressed_bytes} bytes inflates past the limit of {max_bytes} bytes"


def bounded_gunzip(data: bytes, max_bytes: int, max_ratio: int = MAX_INFLATION_RATIO) -> bytes:
    """The inflated gzip `data`, refusing to produce more than its inflation limit (a gzip bomb).

    The limit is `max_bytes`, and `max_ratio` times the compressed size past RATIO_FLOOR_BYTES.
    Inflates in bounded steps (never more than the limit + 1 bytes in memory), and handles
    multi-member gzip. Truncated or corrupt input is refused too.
    """
    if max_bytes < 0:
        raise ValueError(f"max_bytes must be >= 0, got {max_bytes}")
    if not data:
        raise GzipBombError("gzip payload is empty")
    limit = inflation_limit(len(data), max_bytes, max_ratio)
    out = bytearray()
    for chunk in inflate_chunks(data):
        out += chunk
        if len(out) > limit:
            raise GzipBombError(bomb_message(len(data), max_bytes, max_ratio))
    return bytes(out)


def inflate_chunks(data: bytes) -> Iterator[bytes]:
    """The inflated gzip `data` in chunks of at most 64 KiB (multi-member aware, constant memory).

    Corrupt or truncated input raises GzipBombError.
    """
    pending = data
    while pending:
        inflater = zlib.decompressobj(_GZIP_WBITS)
        while not inflater.eof:
            try:
                chunk = inflater.decompress(pending, _CHUNK)
            except zlib.error as error:
                raise GzipBombError(
                    f"gzip payload of {len(data)} bytes is corrupt: {error}"
                ) from None
            pending = inflater.unconsumed_tail
            if chunk:
                yield chunk
            elif not pending and not inflater.eof:
                raise GzipBombError(f"gzip payload of {len(data)} bytes is truncated")
        pending = inflater.unused_data
