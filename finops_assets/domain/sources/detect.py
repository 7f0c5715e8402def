"""Which billing source a file or API page comes from, judged from its header or top-level keys.

Reads as little as it can: a CSV's first line, a gzip's first MiB (never the whole stream),
a Parquet file's schema, a JSON document's keys.
"""

import csv
import io
import json
import re
import zlib
from collections.abc import Iterable

import pyarrow as pa
import pyarrow.parquet as pq

from finops_assets.domain.sources.common import SourceFormatError

FORMATS = ("aws_cost_explorer", "aws_cur", "gcp_billing_export", "azure_cost", "focus_export")
MAX_PREFIX_BYTES = 1 << 20  # how much of a gzip stream detection inflates, at most

_FOCUS = {"BilledCost", "ChargePeriodStart", "BillingCurrency"}
_CUR2 = {"line_item_unblended_cost", "bill_payer_account_id"}
_CUR_LEGACY = {"lineitem/unblendedcost"}
_GCP = {"billing_account_id", "usage_start_time", "cost"}
_AZURE_COST = {"costinbillingcurrency", "pretaxcost", "costinusd", "cost"}
_AZURE_SCOPE = {"subscriptionid", "subscriptionguid"}
_AZURE_METER = {"metercategory", "meterid", "metername"}


def detect_format(data: bytes, name: str) -> str:
    """The source whose parser reads this file or page; SourceFormatError when none does."""
    if not data.strip():
        raise SourceFormatError(f"{name}: not a billing file we recognise: the file is empty")
    if data[:4] == b"PAR1":
        return _from_columns(_parquet_columns(data, name), name, "Parquet schema")
    kind = "CSV header"
    if data[:2] == b"\x1f\x8b":
        data, kind = _gunzip_prefix(data, name), "gzip CSV header"
    head = data[:MAX_PREFIX_BYTES].decode("utf-8-sig", errors="replace").lstrip()
    if head.startswith(("{", "[")):
        return _from_json(data.decode("utf-8-sig", errors="replace"), name)
    return _from_columns(_csv_header(head), name, kind)


def _from_columns(columns: list[str], name: str, kind: str) -> str:
    """Match a column list against each source's signature columns."""
    exact = set(columns)
    lower = {c.lower() for c in columns}
    if _FOCUS.issubset(exact):
        return "focus_export"
    if _CUR2.issubset(lower) or _CUR_LEGACY.issubset(lower):
        return "aws_cur"
    has_service = "service.description" in lower or "service" in lower
    if _GCP.issubset(lower) and has_service:
        return "gcp_billing_export"
    if lower & _AZURE_COST and lower & _AZURE_SCOPE and lower & _AZURE_METER:
        return "azure_cost"
    raise SourceFormatError(
        f"{name}: not a billing file we recognise: the {kind} has none of the signature columns "
        f"of FOCUS (BilledCost, ChargePeriodStart, BillingCurrency), CUR (line_item_unblended_cost "
        f"or lineItem/UnblendedCost), the GCP export (billing_account_id, service, "
        f"usage_start_time, cost) or an Azure cost export (CostInBillingCurrency/PreTaxCost, "
        f"SubscriptionId, MeterCategory); columns seen: {_preview(columns)}"
    )


def _from_json(text: str, name: str) -> str:
    """Cost Explorer responses carry ResultsByTime; Azure Query API pages properties.columns/rows."""
    try:
        document = json.loads(text)
    except ValueError:
        return _from_json_keys(text, name)
    if isinstance(document, dict):
        if "ResultsByTime" in document:
            return "aws_cost_explorer"
        if any(_is_azure_query(body) for body in _azure_bodies(document)):
            return "azure_cost"
        seen = _preview(list(document))
    else:
        seen = f"a JSON {type(document).__name__}, not an object"
    raise SourceFormatError(
        f"{name}: not a billing file we recognise: JSON without ResultsByTime (Cost Explorer) "
        f"or properties.columns and properties.rows (Azure Query API); top-level keys: {seen}"
    )


def _from_json_keys(text: str, name: str) -> str:
    """A truncated JSON prefix (from a gzip): look for the signature keys in the text."""
    if re.search(r'"ResultsByTime"\s*:', text):
        return "aws_cost_explorer"
    if re.search(r'"columns"\s*:', text) and re.search(r'"properties"\s*:', text):
        return "azure_cost"
    raise SourceFormatError(
        f"{name}: not a billing file we recognise: unreadable JSON without ResultsByTime or "
        f"properties.columns in its first {len(text)} characters"
    )


def _azure_bodies(document: dict) -> Iterable[object]:
    """The document itself, and response bodies of a recorded example ({responses: {200: body}})."""
    yield document
    responses = document.get("responses")
    if isinstance(responses, dict):
        for response in responses.values():
            if isinstance(response, dict):
                yield response.get("body")


def _is_azure_query(body: object) -> bool:
    if not isinstance(body, dict):
        return False
    properties = body.get("properties")
    return isinstance(properties, dict) and "columns" in properties and "rows" in properties


def _gunzip_prefix(data: bytes, name: str) -> bytes:
    """At most MAX_PREFIX_BYTES of the inflated stream: enough for a header, never a bomb."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        return inflater.decompress(data, MAX_PREFIX_BYTES)
    except zlib.error as exc:
        raise SourceFormatError(
            f"{name}: not a billing file we recognise: corrupt gzip ({exc})"
        ) from exc


def _csv_header(text: str) -> list[str]:
    first_line = text.splitlines()[0] if text else ""
    row = next(csv.reader(io.StringIO(first_line)), [])
    return [c.strip() for c in row]


def _parquet_columns(data: bytes, name: str) -> list[str]:
    """Column names of a Parquet file, nested struct fields as 'parent.child' too."""
    try:
        schema = pq.read_schema(pa.BufferReader(data))
    except (pa.ArrowException, OSError) as exc:
        raise SourceFormatError(
            f"{name}: not a billing file we recognise: unreadable Parquet ({exc})"
        ) from exc
    columns: list[str] = []
    for field in schema:
        columns.append(field.name)
        if pa.types.is_struct(field.type):
            columns.extend(f"{field.name}.{child.name}" for child in field.type)
    return columns


def _preview(columns: list[str], limit: int = 12) -> str:
    shown = ", ".join(columns[:limit]) or "(none)"
    return shown + (f", ... ({len(columns)} in all)" if len(columns) > limit else "")
