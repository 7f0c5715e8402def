"""Enough of the BigQuery REST API (jobs.query) for the real google-cloud-bigquery client.

No BigQuery emulator installs here from PyPI, npm or Debian, so this server answers
POST /bigquery/v2/projects/{project}/queries with a fixed result (schema + rows in the REST
`f`/`v` encoding, TIMESTAMPs as int64 microseconds), completing the query in one response. It
does not run SQL: the test checks the SQL and parameters the client sent (recorded here).
"""

import contextlib
import datetime as dt
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pyarrow as pa

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def bigquery_field(arrow: pa.Field) -> dict[str, Any]:
    """An Arrow field -> a BigQuery REST schema field."""
    kind, mode = arrow.type, "NULLABLE"
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        kind, mode = kind.value_type, "REPEATED"
    if pa.types.is_struct(kind):
        subfields = [bigquery_field(kind.field(i)) for i in range(kind.num_fields)]
        return {"name": arrow.name, "type": "RECORD", "mode": mode, "fields": subfields}
    if pa.types.is_decimal(kind):
        name = "NUMERIC"
    elif pa.types.is_timestamp(kind):
        name = "TIMESTAMP"
    elif pa.types.is_integer(kind):
        name = "INTEGER"
    else:
        name = "STRING"
    return {"name": arrow.name, "type": name, "mode": mode}


def _cell(value: Any, schema_field: dict[str, Any], repeated_item: bool = False) -> dict:
    if schema_field["mode"] == "REPEATED" and not repeated_item:
        items = value or []
        return {"v": [_cell(item, schema_field, repeated_item=True) for item in items]}
    if value is None:
        return {"v": None}
    if schema_field["type"] == "RECORD":
        return {"v": {"f": [_cell(value.get(f["name"]), f) for f in schema_field["fields"]]}}
    if schema_field["type"] == "TIMESTAMP":
        return {"v": str((value - _EPOCH) // dt.timedelta(microseconds=1))}
    return {"v": str(value)}


@dataclass
class BigQueryApiState:
    """The table to answer with (an Arrow table) and the recorded request bodies."""

    table: pa.Table
    requests: list[dict] = field(default_factory=list)
    url: str = ""

    def response(self, project: str) -> bytes:
        schema = [bigquery_field(f) for f in self.table.schema]
        rows = [{"f": [_cell(r[f["name"]], f) for f in schema]} for r in self.table.to_pylist()]
        return json.dumps(
            {
                "kind": "bigquery#queryResponse",
                "schema": {"fields": schema},
                "jobReference": {"projectId": project, "jobId": "job-1", "location": "EU"},
                "totalRows": str(len(rows)),
                "rows": rows,
                "jobComplete": True,
            }
        ).encode()


@contextlib.contextmanager
def bigquery_api(state: BigQueryApiState) -> Iterator[BigQueryApiState]:
    """Serve `state` on http://127.0.0.1:<free port>; stops on exit."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            state.requests.append({"path": self.path, "body": body})
            parts = self.path.split("?")[0].strip("/").split("/")
            if parts[:3] != ["bigquery", "v2", "projects"] or parts[4:] != ["queries"]:
                data, status = b'{"error": {"code": 404, "message": "not emulated"}}', 404
            else:
                data, status = state.response(parts[3]), 200
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
