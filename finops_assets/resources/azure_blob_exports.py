"""Cost export files in Azure Blob Storage, read with azure-storage-blob.

Layout (the same as the landing folder): `az://<container>/<prefix>/<source>/<YYYY-MM-DD>/<file>`.
Only files directly in the day folder are read. Each blob is downloaded on the condition that its
ETag is still the one listed, and its last-modified time is the payload's fetched_at.

Credentials: AZURE_STORAGE_CONNECTION_STRING (a connection string, e.g. Azurite's), otherwise
AZURE_STORAGE_ACCOUNT_URL (or AZURE_STORAGE_ACCOUNT_NAME) with azure-identity's
DefaultAzureCredential. The variables are read when the backend is built, at run time.
"""

import datetime as dt
import os
from collections.abc import Callable, Mapping
from typing import Any

from finops_assets.resources.gcs_exports import day_prefix, is_export_file, parse_location
from finops_assets.resources.payloads import LandingError, Payload, PayloadSource, day_key
from finops_assets.settings import Settings, SettingsError

ContainerFactory = Callable[[str], Any]


def blob_service_client(env: Mapping[str, str] | None = None) -> Any:
    """A BlobServiceClient from the connection string, or account URL + DefaultAzureCredential."""
    from azure.storage.blob import BlobServiceClient

    env = os.environ if env is None else env
    if env.get("AZURE_STORAGE_CONNECTION_STRING"):
        return BlobServiceClient.from_connection_string(env["AZURE_STORAGE_CONNECTION_STRING"])
    url = env.get("AZURE_STORAGE_ACCOUNT_URL")
    if not url and env.get("AZURE_STORAGE_ACCOUNT_NAME"):
        url = f"https://{env['AZURE_STORAGE_ACCOUNT_NAME']}.blob.core.windows.net"
    if not url:
        raise SettingsError(
            "az:// sources need AZURE_STORAGE_CONNECTION_STRING or AZURE_STORAGE_ACCOUNT_URL"
        )
    from azure.identity import DefaultAzureCredential

    return BlobServiceClient(url, credential=DefaultAzureCredential())


def list_day(container: Any, prefix: str, source: str, day: dt.date) -> list[Any]:
    """BlobProperties of one day folder's export files, sorted by name."""
    day_key(source, day)  # refuses a source name that could escape its folder
    folder = day_prefix(prefix, source, day)
    blobs = container.list_blobs(name_starts_with=folder)
    return sorted((b for b in blobs if is_export_file(b.name, folder)), key=lambda b: b.name)


class AzureBlobExports(PayloadSource):
    """Billing export files under az://container/prefix/<source>/<day>/."""

    def __init__(self, container_name: str, prefix: str, service_factory: Callable[[], Any]):
        self.container_name = container_name
        self.prefix = prefix
        self._service_factory = service_factory

    def fetch(self, source: str, day: dt.date) -> list[Payload]:
        """Every export file of `source` for `day`, byte for byte, in name order."""
        from azure.core import MatchConditions
        from azure.core.exceptions import AzureError

        container = self._service_factory().get_container_client(self.container_name)
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


def from_location(location: str, settings: Settings) -> AzureBlobExports:
    """The backend for FINOPS_SOURCE_<SOURCE>=az://container/prefix."""
    container, prefix = parse_location(location, scheme="az")
    return AzureBlobExports(container, prefix, blob_service_client)
