"""Cost export files in Azure Blob Storage, read with azure-storage-blob.

Layout (the same as the landing folder): `az://<container>/<prefix>/<source>/<YYYY-MM-DD>/<file>`.
Only files directly in the day folder are read. Each blob is downloaded on the condition that its
ETag is still the one listed, and its last-modified time is the payload's fetched_at.

Cost Management exports as Azure writes them, when the location says so (one export per
location): FINOPS_SOURCE_AZURE_COST=az://<container>/<dir>/<export>?layout=exports reads
`<YYYYMMDD-YYYYMMDD>/<run id>/part_*.csv|parquet` with the run's `manifest.json`, or a legacy
export's one CSV per run directly in the period folder. The newest run of a period is its
delivery (domain.delivery_layouts, layout `azure`); an older run never mixes with it.

Credentials: AZURE_STORAGE_CONNECTION_STRING (a connection string, e.g. Azurite's), otherwise
AZURE_STORAGE_ACCOUNT_URL (or AZURE_STORAGE_ACCOUNT_NAME) with azure-identity's
DefaultAzureCredential. settings.py reads the variables (Settings.azure_storage) at run time.
"""

import base64
import datetime as dt
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from dagster import ConfigurableResource

from finops_assets.domain.delivery_layouts import Listed
from finops_assets.resources.bucket_periods import BucketReader, period_payloads
from finops_assets.resources.gcs_exports import day_prefix, is_export_file, parse_location
from finops_assets.resources.payloads import LandingError, Payload, PayloadSource, day_key
from finops_assets.settings import Settings, SettingsError

if TYPE_CHECKING:
    from finops_assets.resources.source_readers import BucketClients

ContainerFactory = Callable[[str], Any]
LAYOUTS = {"days": "days", "exports": "azure"}  # ?layout= value -> domain.delivery_layouts name


def parse_az_location(location: str) -> tuple[str, str, str]:
    """`az://container/prefix[?layout=exports]` -> (container, prefix, layout)."""
    path, _, query = location.partition("?")
    layout = query.removeprefix("layout=") if query else "days"
    if layout not in LAYOUTS or (query and not query.startswith("layout=")):
        raise SettingsError(f"{location!r}: the only option is ?layout=, one of {sorted(LAYOUTS)}")
    container, prefix = parse_location(path, scheme="az")
    return container, prefix, LAYOUTS[layout]


def blob_service_client(env: Mapping[str, str], **options: Any) -> Any:
    """A BlobServiceClient from the connection string, or account URL + DefaultAzureCredential.

    `env`: the AZURE_STORAGE_* settings (Settings.azure_storage); `options`: client keywords
    (retry_total, connection_timeout, ...).
    """
    from azure.storage.blob import BlobServiceClient

    if env.get("AZURE_STORAGE_CONNECTION_STRING"):
        return BlobServiceClient.from_connection_string(
            env["AZURE_STORAGE_CONNECTION_STRING"], **options
        )
    url = env.get("AZURE_STORAGE_ACCOUNT_URL")
    if not url and env.get("AZURE_STORAGE_ACCOUNT_NAME"):
        url = f"https://{env['AZURE_STORAGE_ACCOUNT_NAME']}.blob.core.windows.net"
    if not url:
        raise SettingsError(
            "az:// sources need AZURE_STORAGE_CONNECTION_STRING or AZURE_STORAGE_ACCOUNT_URL"
        )
    from azure.identity import DefaultAzureCredential

    return BlobServiceClient(url, credential=DefaultAzureCredential(), **options)


def list_day(container: Any, prefix: str, source: str, day: dt.date) -> list[Any]:
    """BlobProperties of one day folder's export files, sorted by name."""
    day_key(source, day)  # refuses a source name that could escape its folder
    folder = day_prefix(prefix, source, day)
    blobs = container.list_blobs(name_starts_with=folder)
    return sorted((b for b in blobs if is_export_file(b.name, folder)), key=lambda b: b.name)


class AzureBlobExports(PayloadSource):
    """Billing export files under az://container/prefix/<source>/<day>/."""

    def __init__(
        self,
        container_name: str,
        prefix: str,
        service_factory: Callable[[], Any],
        layout: str = "days",
    ):
        self.container_name = container_name
        self.prefix = prefix
        self._service_factory = service_factory
        self.layout = layout
        self._reader: AzureReader | None = None

    def fetch(self, source: str, day: dt.date) -> list[Payload]:
        """Every export file of `source` for `day`, byte for byte, in name order."""
        from azure.core import MatchConditions
        from azure.core.exceptions import AzureError

        container = self._service_factory().get_container_client(self.container_name)
        if self.layout != "days":
            if self._reader is None:  # one reader per run: each blob read once
                self._reader = AzureReader(container, self.prefix)
            return period_payloads(self._reader, self.layout, source, day)
        payloads = []
        for blob in list_day(container, self.prefix, source, day):
            try:
                data = container.download_blob(
                    blob.name, etag=blob.etag, match_condition=MatchConditions.IfNotModified
                ).readall()
            except AzureError as error:
                raise LandingError(
                    f"cannot read az://{self.container_name}/{blob.name}: {error}"
                ) from error
            payloads.append(
                Payload(
                    name=f"{source}/{day.isoformat()}/{blob.name.rsplit('/', 1)[-1]}",
                    data=data,
                    fetched_at=blob.last_modified.astimezone(dt.UTC).replace(microsecond=0),
                )
            )
        return payloads


class AzureReader(BucketReader):
    """The blobs under a container prefix, each read at the ETag it was listed with."""

    def __init__(self, container: Any, prefix: str):
        super().__init__()
        self.container, self.prefix = container, prefix
        self.uri = f"az://{container.container_name}/{prefix}"
        self._etags: dict[str, str] = {}

    def list(self) -> list[Listed]:
        head = f"{self.prefix}/" if self.prefix else ""
        listed = []
        for blob in self.container.list_blobs(name_starts_with=head or None):
            md5 = blob.content_settings.content_md5
            version = base64.b64encode(bytes(md5)).decode() if md5 else str(blob.etag)
            self._etags[blob.name] = blob.etag
            listed.append(Listed(blob.name[len(head) :], version, blob.last_modified))
        return sorted(listed, key=lambda obj: obj.key)

    def fetch(self, obj: Listed) -> bytes:
        from azure.core import MatchConditions
        from azure.core.exceptions import AzureError

        name = f"{self.prefix}/{obj.key}" if self.prefix else obj.key
        try:
            return self.container.download_blob(
                name, etag=self._etags[name], match_condition=MatchConditions.IfNotModified
            ).readall()
        except AzureError as error:
            raise LandingError(f"cannot read {self.name(obj)}: {error}") from error


def from_location(
    location: str, settings: Settings, clients: "BucketClients | None" = None
) -> AzureBlobExports:
    """The backend for FINOPS_SOURCE_<SOURCE>=az://container/prefix[?layout=exports]: the
    registered `azure_blob` resource's client (clients), or one from Settings.azure_storage."""
    container, prefix, layout = parse_az_location(location)
    if clients:
        return AzureBlobExports(container, prefix, clients.azure_blob, layout)
    return AzureBlobExports(
        container, prefix, lambda: blob_service_client(settings.azure_storage), layout
    )


class AzureBlobResource(ConfigurableResource):
    """Azure Blob Storage for export files: the az:// sensor's listings and the raw reads.

    `connection_string` (a secret: dg.EnvVar("AZURE_STORAGE_CONNECTION_STRING") in
    definitions.py) or `account_url` with DefaultAzureCredential; both empty: the AZURE_STORAGE_*
    settings at run time.
    """

    connection_string: str = ""
    account_url: str = ""

    def get_client(self, **options: Any) -> Any:
        """A BlobServiceClient; built on use, never while definitions load.

        `options`: client keywords (retry_total, connection_timeout, ...), as the start-up probe
        passes them."""
        if self.connection_string:
            env = {"AZURE_STORAGE_CONNECTION_STRING": self.connection_string}
            return blob_service_client(env, **options)
        if self.account_url:
            return blob_service_client({"AZURE_STORAGE_ACCOUNT_URL": self.account_url}, **options)
        return blob_service_client(Settings.from_env().azure_storage, **options)
