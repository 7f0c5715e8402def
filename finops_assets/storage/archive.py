"""Raw payloads archived byte for byte, before parsing, under <lake root>/_raw_archive/."""

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

import pyarrow.fs as pafs

ARCHIVE_FOLDER = "_raw_archive"


@dataclass(frozen=True)
class RawArchive:
    """Content-addressed archive of what providers sent: <root>/_raw_archive/<source>/<day>/."""

    root_uri: str
    storage_options: Mapping[str, str] = field(default_factory=dict)

    def _fs_and_base(self) -> tuple[pafs.FileSystem, str]:
        root = self.root_uri.rstrip("/")
        if "://" not in root:
            return pafs.LocalFileSystem(), f"{root}/{ARCHIVE_FOLDER}"
        fs, path = pafs.FileSystem.from_uri(root)
        return fs, f"{path}/{ARCHIVE_FOLDER}"

    def store(self, source: str, day: dt.date, name: str, data: bytes) -> str:
        """Archive `data` and return its archive path; storing the same bytes twice is a no-op."""
        digest = hashlib.sha256(data).hexdigest()
        safe_name = name.replace("/", "__")
        fs, base = self._fs_and_base()
        folder = f"{base}/{source}/{day.isoformat()}"
        path = f"{folder}/{digest[:16]}-{safe_name}"
        if fs.get_file_info(path).type == pafs.FileType.File:
            return path
        fs.create_dir(folder, recursive=True)
        with fs.open_output_stream(path + ".tmp") as out:
            out.write(data)
        fs.move(path + ".tmp", path)
        return path

    def read(self, path: str) -> bytes:
        fs, _ = self._fs_and_base()
        with fs.open_input_stream(path) as stream:
            return stream.read()
