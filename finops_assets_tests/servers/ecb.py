"""A plain HTTP server on 127.0.0.1 standing in for the ECB's site: it serves files in the ECB's
own formats (built from the real history in the public data) and records every request."""

import http.server
import io
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

HISTORY_PATH = "/stats/eurofxref/eurofxref-hist.zip"


@dataclass
class Feed:
    """Files served by path; `after_first_request` replaces them once the first one was served."""

    files: dict[str, bytes] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    after_first_request: dict[str, bytes] = field(default_factory=dict)


def history_zip(csv_text: str) -> bytes:
    """eurofxref-hist.zip as the ECB publishes it: one eurofxref-hist.csv inside."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("eurofxref-hist.csv", csv_text)
    return buffer.getvalue()


@contextmanager
def ecb_site() -> Iterator[tuple[str, Feed]]:
    """(base URL like the ECB's .../stats/eurofxref, the feed it serves)."""
    feed = Feed()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            feed.requests.append(self.path)
            body = feed.files.get(self.path)
            if feed.after_first_request:
                feed.files.update(feed.after_first_request)
                feed.after_first_request = {}
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/stats/eurofxref", feed
    finally:
        server.shutdown()
        server.server_close()
