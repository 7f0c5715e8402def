"""What the webhook accepts on the wire: body size, content type, JSON depth, time to send.

Every refusal is an `HttpRefusal` carrying the HTTP status to answer (400, 408, 411, 413, 415),
so a hostile body gets a clear 4xx and never a 500 (which `failurePolicy: Ignore` would admit).
"""

import json
import time
from io import BufferedIOBase
from typing import Any

MAX_BODY_BYTES = 1 << 20  # an AdmissionReview of a large Pod is tens of kB
MAX_JSON_DEPTH = 64  # a Pod spec nests about 15 deep
JSON_TYPES = ("application/json",)
CLOUDEVENTS_TYPES = ("application/cloudevents+json", "application/json")


class HttpRefusal(ValueError):
    """A request refused before it reaches the webhook's logic; `status` is the HTTP answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def check_content_type(header: str | None, allowed: tuple[str, ...]) -> None:
    """Refuse (415) a body whose media type is not one of `allowed` (parameters are ignored)."""
    media_type = (header or "").split(";", 1)[0].strip().lower()
    if media_type not in allowed:
        raise HttpRefusal(415, f"content type {media_type or 'none'!r}: expected one of {allowed}")


def body_length(content_length: str | None, transfer_encoding: str | None) -> int:
    """The declared body length; chunked or missing lengths are refused (411), huge ones 413."""
    if transfer_encoding:
        raise HttpRefusal(411, "Transfer-Encoding is not accepted: send a Content-Length")
    if content_length is None:
        raise HttpRefusal(411, "a Content-Length is required")
    try:
        length = int(content_length)
    except ValueError:
        raise HttpRefusal(400, "Content-Length is not a number") from None
    if length < 0:
        raise HttpRefusal(400, "Content-Length is negative")
    if length > MAX_BODY_BYTES:
        raise HttpRefusal(413, f"body of {length:,} bytes: over the limit of {MAX_BODY_BYTES:,}")
    return length


def read_body(stream: BufferedIOBase, length: int, deadline_seconds: float) -> bytes:
    """Read `length` bytes, refusing (408) a sender too slow to finish within the deadline.

    The socket's own timeout bounds each read; this bounds the total, so a body sent one byte
    at a time (slowloris) cannot hold a worker forever.
    """
    deadline = time.monotonic() + deadline_seconds
    chunks: list[bytes] = []
    remaining = length
    while remaining:
        if time.monotonic() > deadline:
            raise HttpRefusal(408, f"body not received within {deadline_seconds:g} s")
        try:
            chunk = stream.read1(min(remaining, 1 << 16))
        except TimeoutError:
            raise HttpRefusal(408, "body stalled: no byte within the read timeout") from None
        if not chunk:
            raise HttpRefusal(400, "body shorter than its Content-Length")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def json_depth(document: Any) -> int:
    """How deep objects and arrays nest in a parsed JSON document (iterative, no recursion)."""
    deepest, stack = 0, [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, depth)
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
    return deepest


def parse_json(body: bytes, what: str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """The JSON document in `body`; 400 when it is not JSON or nests deeper than `max_depth`."""
    try:
        document = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise HttpRefusal(400, f"{what} body is not JSON: {error}") from None
    except RecursionError:
        raise HttpRefusal(400, f"{what} body nests deeper than {max_depth} levels") from None
    if json_depth(document) > max_depth:
        raise HttpRefusal(400, f"{what} body nests deeper than {max_depth} levels")
    return document
