"""Export files in a Google Cloud Storage bucket, read through dagster-gcp's GCSResource.

Layout (the same as the landing folder): `gs://<bucket>/<prefix>/<source>/<YYYY-MM-DD>/<file>`,
and billing-period files by month, `gs://<bucket>/<prefix>/<source>/<YYYY-MM>/<file>` (BigQuery
billing export tables exported by month; a manifest beside them is optional). A month folder is
one delivery (domain.delivery_layouts, layout `months`): its files span days, so each day of the
month keeps its own rows. Only files directly in a day or month folder are read; deeper
"folders" and names starting with a dot are ignored. Each object is downloaded at the generation that was listed, and its `updated` time
is the payload's fetched_at. STORAGE_EMULATOR_HOST (honoured by google-cloud-storage) points the
client at an emulator; credentials come from Application Default Credentials otherwise.
"""

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from finops_assets.domain.delivery_layouts import Listed
from finops_assets.resources.bucket_periods import BucketReader, period_payloads
from finops_assets.resources.gcs_client import GcsClientResource
from finops_assets.resources.payloads import (
    LandingError,
    Payload,
    PayloadSource,
    bucket_file_name,
    day_key,
)
from finops_assets.settings import Settings, SettingsError

if TYPE_CHECKING:
    from finops_assets.resources.source_readers import BucketClients

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
        self._readers: dict[str, GcsReader] = {}

    def list_day(self, client: Any, source: str, day: dt.date) -> list[Any]:
        """The blobs of one day folder, sorted by name."""
        day_key(source, day)  # refuses a source name that could escape its folder
        folder = day_prefix(self.prefix, source, day)
        blobs = client.list_blobs(self.bucket, prefix=folder)
        return sorted((b for b in blobs if is_export_file(b.name, folder)), key=lambda b: b.name)

    def fetch(self, source: str, day: dt.date) -> list[Payload]:
        """Every export file of `source` for `day` (its day folder, then its month's delivery)."""
        client = self._client_factory()
        if source not in self._readers:  # one reader per source and run: each file read once
            self._readers[source] = GcsReader(self, client, within=source)
        payloads = self.day_payloads(client, source, day)
        return payloads + period_payloads(self._readers[source], "months", source, day)

    def day_payloads(self, client: Any, source: str, day: dt.date) -> list[Payload]:
        """The files of `source`'s day folder, byte for byte, in name order."""
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


class GcsReader(BucketReader):
    """The objects under a GcsExports location (or its `within` source folder), each read at
    the generation listed."""

    def __init__(self, exports: GcsExports, client: Any, within: str = ""):
        super().__init__()
        self.bucket, self.prefix, self.client = exports.bucket, exports.prefix, client
        self.within = within
        self.uri = f"gs://{exports.bucket}/{exports.prefix}"
        self._blobs: dict[str, Any] = {}

    def list(self) -> list[Listed]:
        head = f"{self.prefix}/" if self.prefix else ""
        below = f"{head}{self.within}/" if self.within else head
        self._blobs = {
            b.name[len(head) :]: b for b in self.client.list_blobs(self.bucket, prefix=below)
        }
        return [
            Listed(key, str(blob.md5_hash or blob.crc32c), _utc(blob.updated))
            for key, blob in sorted(self._blobs.items())
        ]

    def fetch(self, obj: Listed) -> bytes:
        blob = self._blobs[obj.key]
        try:
            return blob.download_as_bytes(if_generation_match=blob.generation)
        except Exception as error:  # noqa: BLE001 - google raises many types; keep the cause
            raise LandingError(f"cannot read {self.name(obj)}: {error}") from error


def _utc(value: dt.datetime | None) -> dt.datetime:
    if value is None:
        return dt.datetime.fromtimestamp(0, tz=dt.UTC)
    return value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)


def from_location(
    location: str, settings: Settings, clients: "BucketClients | None" = None
) -> GcsExports:
    """The backend for FINOPS_SOURCE_<SOURCE>=gs://bucket/prefix: the registered `gcs` resource's
    client (clients), or an unconfigured GcsClientResource's."""
    bucket, prefix = parse_location(location)
    return GcsExports(bucket, prefix, clients.gcs if clients else GcsClientResource().get_client)
