"""Where raw billing payloads come from: an interface, and the local landing-folder implementation.

Each payload is one export file or one API response page, exactly as the provider sent it.
"""

import datetime as dt
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

from finops_assets.domain.deliveries import (
    check_against_manifest,
    is_manifest_name,
    read_manifest,
)
from finops_assets.security.hardening import UnsafePathError, safe_landing_path

_DAY_FOLDER = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# A billing-period delivery: <source>/<YYYYMMDD-YYYYMMDD>/<export>/<files>, first and last
# charge day inclusive (written by `finops load`).
_PERIOD_FOLDER = re.compile(r"^(\d{8})-(\d{8})$")
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._=-]*$")


class LandingError(ValueError):
    """The landing folder or a file in it cannot be used; the message says what to do."""


def day_key(source: str, day: dt.date) -> str:
    """`<source>/<YYYY-MM-DD>`, the relative folder of one day; refuses a source that could escape.

    A source is one name of the landing pattern: no '/', no '..', not absolute.
    """
    if not _SAFE_NAME.fullmatch(source):
        raise LandingError(
            f"source {source!r}: not a name of the pattern {_SAFE_NAME.pattern} "
            "(path traversal, absolute paths and sub-folders are refused)"
        )
    return f"{source}/{day.isoformat()}"


def bucket_file_name(key: str, folder: str) -> str | None:
    """The file name of a bucket `key` listed under the day `folder` (which ends in '/').

    None for hidden or temporary files and for files in deeper folders (the caller decides
    whether those are an error). Raises LandingError for a key that could escape the folder
    (absolute, backslashes, '.' or '..' segments) or a file name outside the landing pattern.
    """
    if not key.startswith(folder):
        raise LandingError(f"object key {key!r} is not under the day folder {folder!r}")
    rest = key[len(folder) :]
    if rest.startswith("/") or "\\" in rest or any(s in (".", "..") for s in rest.split("/")):
        raise LandingError(
            f"object key {key!r}: absolute path, backslash or '.'/'..' segment after {folder!r} "
            "(path traversal): refused"
        )
    if not rest or "/" in rest or rest.startswith(".") or rest.endswith(".tmp"):
        return None
    if not _SAFE_NAME.fullmatch(rest):
        raise LandingError(
            f"object key {key!r}: file name outside the expected pattern {_SAFE_NAME.pattern}"
        )
    return rest


@dataclass(frozen=True)
class Payload:
    """One file or API page: its name, its bytes and when it was fetched (object mtime for files)."""

    name: str
    data: bytes
    fetched_at: dt.datetime
    # Set by API sources: provider, account, day and request hash. Files leave it None and get
    # a key from their content hash.
    ingestion_key: str | None = None
    # True for a file holding many charge days (a CUR 2.0 month file): the pipeline keeps the
    # day's rows and leaves the others to their own partitions instead of quarantining them.
    spans_days: bool = False
    # The first and last charge day of a billing-period file's delivery (its landing folder):
    # it is archived and keyed under the first day, and its bad rows dated outside the period or
    # not at all are quarantined on that day. None: the month of the day being ingested.
    period: tuple[dt.date, dt.date] | None = None
    # True when the delivery's manifest lists this file (with size and rows checked where given):
    # then a file shorter than its archived predecessor is a restatement, not a cut copy.
    vouched: bool = False
    # The dataset the delivery's manifest declares for its files (Azure `exportConfig.type`):
    # it decides the rows' export dataset before the file's name or rows are looked at.
    dataset: str | None = None


class PayloadSource(ABC):
    """Gives the raw payloads of one billing source for one charge day."""

    @abstractmethod
    def fetch(self, source: str, day: dt.date) -> list[Payload]:
        """All payloads for `source` and `day`, in a stable order."""


class LandingFolder(PayloadSource):
    """The embedded default: files under <landing>/<source>/<YYYY-MM-DD>/.

    Export files land here (from a sync job or the sample generator); API sources replay pages
    recorded here. Names outside the expected pattern and symlinks leaving the folder are refused.
    """

    def __init__(self, root: Path):
        self.root = Path(root)

    def day_folder(self, source: str, day: dt.date) -> Path:
        """The resolved day folder; LandingError if it would leave the landing root."""
        return self._safe_path(day_key(source, day))

    def _safe_path(self, relative_key: str) -> Path:
        try:
            return safe_landing_path(self.root, relative_key)
        except UnsafePathError as error:
            raise LandingError(
                f"{self.root / relative_key}: points outside the landing folder "
                f"or is not a safe name ({error})"
            ) from error

    def fetch(self, source: str, day: dt.date) -> list[Payload]:
        if not self.root.is_dir():
            raise LandingError(
                f"landing folder {self.root} does not exist: run `make demo` (or `finops demo`) "
                "to generate the sample estate, or set FINOPS_LANDING_DIR"
            )
        payloads = self._day_payloads(source, day)
        for folder, span in self._periods_holding(source, day):
            for export in sorted(p for p in folder.iterdir() if p.is_dir()):
                payloads += self._delivery_payloads(source, export, span)
        return payloads

    def _periods_holding(
        self, source: str, day: dt.date
    ) -> list[tuple[Path, tuple[dt.date, dt.date]]]:
        """Billing-period folders of `source` whose day range holds `day`, with their first day."""
        base = self.root / source
        day_key(source, day)
        if not base.is_dir():
            return []
        found = []
        for folder in sorted(base.iterdir()):
            span = period_span(folder.name)
            if span and span[0] <= day <= span[1] and folder.is_dir():
                found.append((self._safe_path(f"{source}/{folder.name}"), span))
        return found

    def _delivery_payloads(
        self, source: str, export: Path, span: tuple[dt.date, dt.date]
    ) -> list[Payload]:
        """One export's delivery for a period: the files its manifest lists, checked, or all."""
        relative = f"{source}/{export.parent.name}/{export.name}"
        files = {
            path.name: self._read(path, f"{relative}/{path.name}")
            for path in sorted(export.iterdir())
            if not path.name.startswith(".") and not path.name.endswith(".tmp")
        }
        manifests = [name for name in files if is_manifest_name(name)]
        if len(manifests) > 1:
            raise LandingError(f"{self.root / relative}: more than one manifest {manifests}")
        listed: set[str] | None = None
        dataset: str | None = None
        if manifests:
            manifest = read_manifest(files.pop(manifests[0])[0], f"{relative}/{manifests[0]}")
            check_against_manifest(manifest, {n: d for n, (d, _) in files.items()})
            listed, dataset = manifest.names(), manifest.dataset
        return [
            Payload(
                f"{relative}/{name}",
                data,
                fetched_at,
                spans_days=True,
                period=span,
                vouched=listed is not None,
                dataset=dataset,
            )
            for name, (data, fetched_at) in files.items()
            if listed is None or name in listed  # files a newer manifest dropped are superseded
        ]

    def _read(self, path: Path, relative_key: str) -> tuple[bytes, dt.datetime]:
        target = self._checked_file(path, relative_key)
        try:
            data = target.read_bytes()
        except OSError as error:
            raise LandingError(f"cannot read {path}: {error.strerror}") from error
        mtime = dt.datetime.fromtimestamp(target.stat().st_mtime_ns / 1e9, tz=dt.UTC)
        return data, mtime.replace(microsecond=0)

    def _day_payloads(self, source: str, day: dt.date) -> list[Payload]:
        folder = self.day_folder(source, day)
        if not folder.is_dir():
            return []
        payloads = []
        for path in sorted(folder.iterdir()):
            if path.name.startswith(".") or path.name.endswith(".tmp"):
                continue
            data, fetched_at = self._read(path, f"{day_key(source, day)}/{path.name}")
            payloads.append(
                Payload(
                    name=f"{source}/{day.isoformat()}/{path.name}",
                    data=data,
                    fetched_at=fetched_at,
                )
            )
        return payloads

    def _checked_file(self, path: Path, relative_key: str) -> Path:
        """The resolved file behind `path` (read that, not the link), once checked."""
        if not _SAFE_NAME.fullmatch(path.name):
            raise LandingError(
                f"{path}: file name outside the expected pattern {_SAFE_NAME.pattern}"
            )
        resolved = self._safe_path(relative_key)
        if not resolved.is_file():
            raise LandingError(f"{path}: not a regular file")
        return resolved

    def days(self, source: str) -> list[dt.date]:
        """Days that have a folder for `source`."""
        day_key(source, dt.date.min)  # refuses a source that could leave the root
        base = self.root / source
        if not base.is_dir():
            return []
        days = {dt.date.fromisoformat(p.name) for p in base.iterdir() if _DAY_FOLDER.match(p.name)}
        for folder in base.iterdir():
            span = period_span(folder.name)
            if span:
                days.update(
                    span[0] + dt.timedelta(days=n) for n in range((span[1] - span[0]).days + 1)
                )
        return sorted(days)


def period_folder_name(first: dt.date, last: dt.date) -> str:
    """`YYYYMMDD-YYYYMMDD`: the landing folder of a delivery covering first..last (inclusive)."""
    return f"{first:%Y%m%d}-{last:%Y%m%d}"


def period_span(name: str) -> tuple[dt.date, dt.date] | None:
    """(first, last) day of a billing-period folder name; None for any other name."""
    match = _PERIOD_FOLDER.fullmatch(name)
    if not match:
        return None
    try:
        first, last = (dt.datetime.strptime(g, "%Y%m%d").date() for g in match.groups())
    except ValueError:
        return None
    return (first, last) if first <= last else None
