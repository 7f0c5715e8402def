"""Export files in a Google Cloud Storage bucket, read through dagster-gcp's GCSResource.

Layout (the same as the landing folder): `gs://<bucket>/<prefix>/<source>/<YYYY-MM-DD>/<file>`.
Only files directly in the day folder are read; deeper "folders" and names starting with a dot
are ignored. Each object is downloaded at the generation that was listed, and its `updated` time
is the payload's fetched_at. STORAGE_EMULATOR_HOST (honoured by google-cloud-storage) points the
client at an emulator; credentials come from Application Default Credentials otherwise.
"""

import datetime as dt
from collections.abc import Callable
from typing import Any

from dagster_gcp import GCSResource

from finops_assets.resources.payloads import (
    LandingError,
    Payload,
    PayloadSource,
    bucket_file_name,
    day_key,
)
from finops_assets.settings import Settings, SettingsError

StorageClientFactory = Callable[[], Any]


def parse_location(location: str, scheme: str = "gs") -> tuple[str, str]:
    """`<scheme>://bucket/prefix` -> (bucket, prefix without surrounding slashes)."""
    head = f"{scheme}://"
    if not location.lower().startswith(head):
        raise SettingsError(f"{location!r} is not a {head}bucket/prefix location")
    bucket, _, prefix = location[len(head) :].partition("/")
    if not bucket:
        raise SettingsError(f"{location!r} names no bucket")
    return bucket, prefix.strip("/")


def day_prefix(prefix: str, source: str, day: dt.date) -> str:
    """The object-name prefix of one source's day folder."""
    parts = [p for p in (prefix, source, day.isoformat()) if p]
    return "/".join(parts) + "/"


def is_export_file(name: str, folder: str) -> bool:
    """A file directly in `folder`: no deeper path, no hidden or temporary file.

    Raises LandingError for a name that could escape the folder or is outside the pattern.
    """
    return bucket_file_name(name, folder) is not None


class GcsExports(PayloadSource):
    """Billing export files under gs://bucket/prefix/<source>/<day>/."""

    def __init__(self, bucket: str, prefix: str, client_factory: StorageClientFactory):
        self.bucket = bucket
        self.prefix = prefix
        self._client_factory = client_factory

    def list_day(self, client: Any, source: str, day: dt.date) -> list[Any]:
        """The blobs of one day folder, sorted by name."""
        day_key(source, day)  # refuses a source name that could escape its folder
        folder = day_prefix(self.prefix, source, day)
        blobs = client.list_blobs(self.bucket, prefix=folder)
        return sorted((b for b in blobs if is_export_file(b.name, folder)), key=lambda b: b.name)

    def fetch(self, source: str, day: dt.date) -> list[Payload]:
        """Every export file of `source` for `day`, byte for byte, in name order."""
        client = self._client_factory()
        payloads = []
        for blob in self.list_day(client, source, day):
            try:
                data = blob.download_as_bytes()
            except Exception as error:  # noqa: BLE001 - google raises many types; keep the cause
                raise LandingError(
                    f"cannot read gs://{self.bucket}/{blob.name}: {error}"
                ) from error
            base = blob.name.rsplit("/", 1)[-1]
            payloads.append(
                Payload(
                    name=f"{source}/{day.isoformat()}/{base}",
                    data=data,
                    fetched_at=_utc(blob.updated).replace(microsecond=0),
                )
            )
        return payloads


def _utc(value: dt.datetime | None) -> dt.datetime:
    if value is None:
        return dt.datetime.fromtimestamp(0, tz=dt.UTC)
    return value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)


def from_location(location: str, settings: Settings) -> GcsExports:
    """The backend for FINOPS_SOURCE_<SOURCE>=gs://bucket/prefix (a GCSResource client)."""
    bucket, prefix = parse_location(location)
    return GcsExports(bucket, prefix, GCSResource().get_client)
