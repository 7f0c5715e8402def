"""Export deliveries: duplicates, manifests and completeness, before any row is parsed.

A delivery is the file set of one billing period of one export. Providers describe it in a
manifest: AWS Data Exports (`<export>-Manifest.json`, `dataFiles`), legacy CUR
(`<report>-Manifest.json`, `reportKeys`), Azure Cost Management (`manifest.json`, `blobs` with
`byteCount` and `dataRowCount`). Here: which files count (the same bytes count once), whether a
delivery is whole (every listed file present, sizes and row counts as listed, no CSV cut in its
last row), and whether a file is only a cut copy of what was delivered before.
"""

import csv
import hashlib
import io
import json
from dataclasses import dataclass

import pyarrow.parquet as pq

from finops_assets.domain.sources.common import MAX_INFLATED_BYTES
from finops_assets.security.hardening import GzipBombError, bounded_gunzip

MANIFEST_SUFFIXES = ("-manifest.json", "manifest.json")


class IncompleteDeliveryError(ValueError):
    """A delivery or file that is not whole; the message names the file and what is missing."""


@dataclass(frozen=True)
class ManifestEntry:
    """One data file a manifest lists; size and rows where the provider gives them."""

    name: str  # the file name (last path segment)
    size: int | None = None
    rows: int | None = None
    path: str = ""  # the file as listed (URI or key); empty when the manifest names files only

    @property
    def tail(self) -> str:
        """What a file's path must end with to be this entry: from the `BILLING_PERIOD=` folder
        on where the listed path has one (Data Exports "create new" deliveries reuse file names
        in a subfolder each), else the file name."""
        parts = self.path.split("/")
        starts = [i for i, part in enumerate(parts) if part.startswith("BILLING_PERIOD=")]
        return "/".join(parts[starts[-1] :]) if starts else self.name


@dataclass(frozen=True)
class Manifest:
    """The files of one delivery, as its manifest lists them."""

    name: str
    entries: tuple[ManifestEntry, ...]
    # The legacy CUR assembly the manifest names (`assemblyId`): its folder is the delivery.
    assembly: str | None = None
    # The dataset every listed file holds, where the manifest says it (Azure `exportConfig.type`:
    # ActualCost, AmortizedCost, FocusCost, ...); None when it does not.
    dataset: str | None = None

    def names(self) -> set[str]:
        return {entry.name for entry in self.entries}

    def lists(self, path: str) -> bool:
        """True when the file at `path` (a key or local path) is one the manifest lists."""
        return any(path == e.tail or path.endswith(f"/{e.tail}") for e in self.entries)


def is_manifest_name(name: str) -> bool:
    """True for a provider manifest's file name (AWS `*-Manifest.json`, Azure `manifest.json`)."""
    return name.rsplit("/", 1)[-1].lower().endswith(MANIFEST_SUFFIXES)


def read_manifest(data: bytes, name: str) -> Manifest:
    """An AWS Data Exports, legacy CUR or Azure export manifest -> the files it lists."""
    try:
        document = json.loads(data)
    except ValueError as error:
        raise IncompleteDeliveryError(f"{name}: manifest is not JSON ({error})") from error
    if not isinstance(document, dict):
        raise IncompleteDeliveryError(f"{name}: manifest is not a JSON object")
    if isinstance(document.get("blobs"), list):  # Azure Cost Management export
        entries = [
            ManifestEntry(
                _base(str(blob.get("blobName", ""))),
                _int_or_none(blob.get("byteCount")),
                _int_or_none(blob.get("dataRowCount")),
            )
            for blob in document["blobs"]
        ]
    elif isinstance(document.get("dataFiles"), list):  # AWS Data Exports (CUR 2.0, FOCUS)
        entries = [ManifestEntry(_base(str(uri)), path=str(uri)) for uri in document["dataFiles"]]
    elif isinstance(document.get("reportKeys"), list):  # legacy CUR
        entries = [ManifestEntry(_base(str(key))) for key in document["reportKeys"]]
    else:
        raise IncompleteDeliveryError(
            f"{name}: not a manifest we know (no 'blobs', 'dataFiles' or 'reportKeys' list)"
        )
    if any(not entry.name for entry in entries):
        raise IncompleteDeliveryError(f"{name}: manifest lists a file without a name")
    assembly = document.get("assemblyId")
    return Manifest(
        name, tuple(entries), str(assembly) if assembly else None, _export_type(document)
    )


def check_against_manifest(manifest: Manifest, files: dict[str, bytes]) -> None:
    """Every listed file present, with the listed size and row count; else the first gap named."""
    for entry in manifest.entries:
        data = files.get(entry.name)
        if data is None:
            raise IncompleteDeliveryError(
                f"{entry.name}: listed in {manifest.name} but not delivered (delivery incomplete)"
            )
        if entry.size is not None and len(data) != entry.size:
            raise IncompleteDeliveryError(
                f"{entry.name}: {len(data)} bytes, {manifest.name} lists {entry.size}"
            )
        if entry.rows is not None:
            rows = count_rows(data, entry.name)
            if rows != entry.rows:
                raise IncompleteDeliveryError(
                    f"{entry.name}: {rows} data rows, {manifest.name} lists {entry.rows}"
                )


def unique_by_content(named: list[tuple[str, bytes]]) -> tuple[list[int], dict[str, str]]:
    """Indexes of the first file of each distinct content, and {duplicate name: first name}."""
    first: dict[str, str] = {}
    keep: list[int] = []
    duplicates: dict[str, str] = {}
    for index, (name, data) in enumerate(named):
        digest = hashlib.sha256(data).hexdigest()
        if digest in first:
            duplicates[name] = first[digest]
        else:
            first[digest] = name
            keep.append(index)
    return keep, duplicates


def text_of(data: bytes, name: str) -> bytes | None:
    """A CSV file's bytes, gunzipped where needed; None for formats that are not text (Parquet)."""
    if data[:4] == b"PAR1":
        return None
    if data[:2] == b"\x1f\x8b":
        return _gunzip(data, name)
    return data


def check_not_cut(data: bytes, name: str) -> None:
    """Refuse a CSV whose last record was cut (fewer fields than the header, or a torn gzip)."""
    text = text_of(data, name)
    if not text:
        return
    lines = text.rstrip(b"\r\n").rsplit(b"\n", 1)
    if len(lines) < 2:
        return  # header only: an empty delivery, not a cut one
    header = text.split(b"\n", 1)[0]
    width = _fields(header)
    last = _fields(lines[-1])
    if text.endswith(b"\n"):
        return
    line = text.count(b"\n") + 1
    if last < width:
        raise IncompleteDeliveryError(
            f"{name}: the last row (line {line}) has {last} of the header's {width} fields "
            "and no line end: the file was cut; deliver it again"
        )
    if lines[-1].count(b'"') % 2:
        raise IncompleteDeliveryError(
            f"{name}: the last row (line {line}) ends inside a quoted field, with no line end: "
            "the file was cut; deliver it again"
        )


def is_cut_copy(new: bytes, old: bytes, name: str) -> bool:
    """True when `new` (its text) is a strict prefix of `old`: a cut copy of the earlier file."""
    new_text, old_text = text_of(new, name), text_of(old, name)
    if new_text is None or old_text is None:
        return False
    return len(new_text) < len(old_text) and old_text.startswith(new_text)


def count_rows(data: bytes, name: str) -> int:
    """Data rows of a CSV (records after the header, quoted line breaks allowed) or Parquet file."""
    text = text_of(data, name)
    if text is None:
        return pq.ParquetFile(io.BytesIO(data)).metadata.num_rows
    reader = csv.reader(io.StringIO(text.decode("utf-8-sig", errors="replace")))
    return max(sum(1 for row in reader if row) - 1, 0)


def _fields(line: bytes) -> int:
    row = next(csv.reader([line.decode("utf-8-sig", errors="replace").rstrip("\r")]), [])
    return len(row)


def _gunzip(data: bytes, name: str) -> bytes:
    """The inflated file, multi-member aware and bounded like every other inflation."""
    try:
        return bounded_gunzip(data, MAX_INFLATED_BYTES)
    except GzipBombError as error:
        if "truncated" in str(error):
            raise IncompleteDeliveryError(
                f"{name}: gzip stream ends early: the file was cut"
            ) from None
        raise IncompleteDeliveryError(f"{name}: gzip stream is damaged ({error})") from None


def _export_type(document: dict) -> str | None:
    """An Azure export manifest's dataset (`exportConfig.type`), as Cost Management names it;
    the legacy `Usage` type is the actual cost. None when the manifest has none."""
    config = document.get("exportConfig")
    value = config.get("type") if isinstance(config, dict) else None
    if not isinstance(value, str) or not value.strip():
        return None
    known = {"actualcost": "ActualCost", "usage": "ActualCost", "amortizedcost": "AmortizedCost"}
    return known.get(value.strip().lower(), value.strip())


def _base(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


def _int_or_none(value: object) -> int | None:
    if value is None:
        return None
    try:
        return int(str(value))
    except ValueError:
        return None
