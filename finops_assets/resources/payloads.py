"""Where raw billing payloads come from: an interface, and the local landing-folder implementation.

Each payload is one export file or one API response page, exactly as the provider sent it.
"""

import datetime as dt
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

_DAY_FOLDER = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._=-]*$")


class LandingError(ValueError):
    """The landing folder or a file in it cannot be used; the message says what to do."""


@dataclass(frozen=True)
class Payload:
    """One file or API page: its name, its bytes and when it was fetched (object mtime for files)."""

    name: str
    data: bytes
    fetched_at: dt.datetime
    # Set by API sources: provider, account, day and request hash. Files leave it None and get
    # a key from their content hash.
    ingestion_key: str | None = None


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
        return self.root / source / day.isoformat()

    def fetch(self, source: str, day: dt.date) -> list[Payload]:
        if not self.root.is_dir():
            raise LandingError(
                f"landing folder {self.root} does not exist: run `make demo` (or `finops demo`) "
                "to generate the sample estate, or set FINOPS_LANDING_DIR"
            )
        folder = self.day_folder(source, day)
        if not folder.is_dir():
            return []
        payloads = []
        for path in sorted(folder.iterdir()):
            if path.name.startswith(".") or path.name.endswith(".tmp"):
                continue
            self._check_safe(path)
            try:
                data = path.read_bytes()
            except OSError as error:
                raise LandingError(f"cannot read {path}: {error.strerror}") from error
            mtime = dt.datetime.fromtimestamp(path.stat().st_mtime_ns / 1e9, tz=dt.UTC)
            payloads.append(
                Payload(
                    name=f"{source}/{day.isoformat()}/{path.name}",
                    data=data,
                    fetched_at=mtime.replace(microsecond=0),
                )
            )
        return payloads

    def _check_safe(self, path: Path) -> None:
        if not _SAFE_NAME.match(path.name):
            raise LandingError(
                f"{path}: file name outside the expected pattern {_SAFE_NAME.pattern}"
            )
        resolved = path.resolve()
        if not resolved.is_relative_to(self.root.resolve()):
            raise LandingError(f"{path}: points outside the landing folder ({resolved})")
        if not resolved.is_file():
            raise LandingError(f"{path}: not a regular file")

    def days(self, source: str) -> list[dt.date]:
        """Days that have a folder for `source`."""
        base = self.root / source
        if not base.is_dir():
            return []
        return sorted(
            dt.date.fromisoformat(p.name) for p in base.iterdir() if _DAY_FOLDER.match(p.name)
        )
