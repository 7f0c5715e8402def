"""Where reports are published: <lake root>/reports/<YYYY-MM>/, on disk or on object storage."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.fs as pafs

from finops_assets.storage.archive import s3_filesystem

REPORTS_FOLDER = "reports"


@dataclass(frozen=True)
class ReportFolder:
    """The reports folder beside the Delta tables; each write replaces a file whole."""

    root_uri: str
    storage_options: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def beside(cls, lake_uri: str, storage_options: Mapping[str, str]) -> "ReportFolder":
        return cls(f"{lake_uri.rstrip('/')}/{REPORTS_FOLDER}", storage_options)

    def _fs_and_base(self) -> tuple[pafs.FileSystem, str]:
        root = self.root_uri.rstrip("/")
        if "://" not in root:
            return pafs.LocalFileSystem(), root
        scheme, _, bucket_path = root.partition("://")
        if scheme.lower() in ("s3", "s3a"):
            return s3_filesystem(self.storage_options), bucket_path
        fs, path = pafs.FileSystem.from_uri(root)
        return fs, path

    def location(self, relative: str) -> str:
        """A file:// URL for a local lake (what a browser opens), else the object's URI."""
        root = self.root_uri.rstrip("/")
        if "://" not in root:
            return Path(f"{root}/{relative}").resolve().as_uri()
        return f"{root}/{relative}"

    def write(self, relative: str, data: bytes) -> str:
        """Write `data` at <reports>/<relative>, replacing any earlier file whole, and locate it.

        On disk through a temporary name and a move; on object storage one PUT, which replaces
        the object atomically already (a move there is a copy and a delete that leaves folder
        markers behind).
        """
        fs, base = self._fs_and_base()
        path = f"{base}/{relative}"
        if not isinstance(fs, pafs.LocalFileSystem):
            with fs.open_output_stream(path) as out:
                out.write(data)
            return self.location(relative)
        fs.create_dir(path.rsplit("/", 1)[0], recursive=True)
        with fs.open_output_stream(path + ".tmp") as out:
            out.write(data)
        fs.move(path + ".tmp", path)
        return self.location(relative)

    def remove(self, relative: str) -> bool:
        """Delete <reports>/<relative> if it exists (a report no longer true); True if it did."""
        fs, base = self._fs_and_base()
        path = f"{base}/{relative}"
        if fs.get_file_info(path).type == pafs.FileType.NotFound:
            return False
        fs.delete_file(path)
        return True
