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
        scheme, _, bucket_path = root.partition("://")
        if scheme.lower() in ("s3", "s3a"):
            return s3_filesystem(self.storage_options), f"{bucket_path}/{ARCHIVE_FOLDER}"
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

    def digests(self, source: str, day: dt.date | str) -> set[str]:
        """Content digests (the 16-hex prefix of each archived name) held for a source and day."""
        fs, base = self._fs_and_base()
        day_key = day if isinstance(day, str) else day.isoformat()
        selector = pafs.FileSelector(f"{base}/{source}/{day_key}", allow_not_found=True)
        names = (info.base_name for info in fs.get_file_info(selector))
        return {n.split("-", 1)[0] for n in names if not n.endswith(".tmp") and "-" in n}

    def versions(self, source: str, day: dt.date, name: str) -> list[str]:
        """Archive paths of every version stored under `name` for `source` and `day`."""
        safe_name = name.replace("/", "__")
        fs, base = self._fs_and_base()
        folder = f"{base}/{source}/{day.isoformat()}"
        if fs.get_file_info(folder).type != pafs.FileType.Directory:
            return []
        infos = fs.get_file_info(pafs.FileSelector(folder))
        return sorted(
            i.path
            for i in infos
            if i.type == pafs.FileType.File and i.base_name[17:] == safe_name  # "<digest16>-"
        )

    def read(self, path: str) -> bytes:
        fs, _ = self._fs_and_base()
        with fs.open_input_stream(path) as stream:
            return stream.read()


def s3_filesystem(options: Mapping[str, str], **extra: object) -> pafs.S3FileSystem:
    """S3 reached with the same AWS_* storage options the Delta tables use (endpoint included)."""
    kwargs: dict[str, object] = dict(extra)
    endpoint = options.get("AWS_ENDPOINT_URL") or options.get("AWS_ENDPOINT_URL_S3")
    if endpoint:
        scheme, _, address = endpoint.partition("://")
        kwargs.update(endpoint_override=address or scheme, scheme=scheme if address else "https")
    if options.get("AWS_ACCESS_KEY_ID") and options.get("AWS_SECRET_ACCESS_KEY"):
        kwargs.update(
            access_key=options["AWS_ACCESS_KEY_ID"],
            secret_key=options["AWS_SECRET_ACCESS_KEY"],
            session_token=options.get("AWS_SESSION_TOKEN"),
        )
    region = options.get("AWS_REGION") or options.get("AWS_DEFAULT_REGION")
    if region:
        kwargs["region"] = region
    return pafs.S3FileSystem(**kwargs)  # type: ignore[arg-type]
