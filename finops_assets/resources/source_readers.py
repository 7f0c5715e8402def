"""The readers of raw billing payloads: one Dagster resource per backend, a local and real twins.

Which one serves a source is its location, FINOPS_SOURCE_<SOURCE> (settings.source_locations):

| location                           | resource                                          |
|------------------------------------|---------------------------------------------------|
| `landing` (default)                | LandingFolderReader (local twin): <landing>/<source>/<day>/ |
| `api`                              | CostExplorerReader, AzureCostQueryReader          |
| `s3://bucket/prefix`               | S3ExportsReader (the registered `s3` resource)    |
| `gs://bucket/prefix`               | GcsExportsReader (the registered `gcs` resource)  |
| `az://container/prefix`            | AzureBlobExportsReader (the registered `azure_blob`) |
| `bigquery://project.dataset.table` | BigQueryExportReader                              |

Each reader builds its client on use, never while definitions load or a run starts, and imports
its cloud SDK then, so the embedded default builds no cloud client.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from dagster import ConfigurableResource
from dagster_aws.s3 import S3Resource

from finops_assets.resources.azure_blob_exports import AzureBlobResource
from finops_assets.resources.gcs_client import GcsClientResource
from finops_assets.resources.payloads import LandingFolder, PayloadSource
from finops_assets.settings import Settings, SettingsError


@dataclass(frozen=True)
class BucketClients:
    """How bucket backends get their client: from the registered S3, GCS and Azure resources."""

    s3: Callable[[], Any]
    gcs: Callable[[], Any]
    azure_blob: Callable[[], Any]


def location_kind(location: str) -> str:
    """'landing', 'api', or the URI scheme of a bucket or table location."""
    if location in ("landing", "api"):
        return location
    if "://" not in location:
        raise SettingsError(f"source location {location!r} is not 'landing', 'api' or a URI")
    return location.split("://", 1)[0].lower()


class SourceReader(ConfigurableResource):
    """A backend that serves raw payloads: `kind` of location, for `sources` ("*": any)."""

    kind: ClassVar[str] = ""
    sources: ClassVar[tuple[str, ...]] = ("*",)

    @classmethod
    def serves(cls, source: str, kind: str) -> bool:
        """Whether this reader reads `source` from a location of `kind`."""
        return kind == cls.kind and ("*" in cls.sources or source in cls.sources)

    def reader(self, source: str, location: str, settings: Settings) -> PayloadSource:
        """The PayloadSource serving `source` from `location`."""
        raise NotImplementedError


class LandingFolderReader(SourceReader):
    """The local twin of every source: files under <landing>/<source>/<day>/ (empty dir: the
    FINOPS_LANDING_DIR setting at run time)."""

    kind: ClassVar[str] = "landing"
    landing_dir: str = ""

    def reader(self, source: str, location: str, settings: Settings) -> PayloadSource:
        return LandingFolder(Path(self.landing_dir) if self.landing_dir else settings.landing_dir)


class S3ExportsReader(SourceReader):
    """Export files in S3, read with the registered `s3` resource's client."""

    kind: ClassVar[str] = "s3"
    s3: S3Resource

    def reader(self, source: str, location: str, settings: Settings) -> PayloadSource:
        from finops_assets.resources.s3_exports import from_location

        return from_location(location, settings, _clients(s3=self.s3.get_client))


class GcsExportsReader(SourceReader):
    """Export files in Google Cloud Storage, read with the registered `gcs` resource's client."""

    kind: ClassVar[str] = "gs"
    gcs: GcsClientResource

    def reader(self, source: str, location: str, settings: Settings) -> PayloadSource:
        from finops_assets.resources.gcs_exports import from_location

        return from_location(location, settings, _clients(gcs=self.gcs.get_client))


class AzureBlobExportsReader(SourceReader):
    """Export files in Azure Blob Storage, read with the registered `azure_blob` resource."""

    kind: ClassVar[str] = "az"
    azure_blob: AzureBlobResource

    def reader(self, source: str, location: str, settings: Settings) -> PayloadSource:
        from finops_assets.resources.azure_blob_exports import from_location

        return from_location(location, settings, _clients(azure_blob=self.azure_blob.get_client))


class CostExplorerReader(SourceReader):
    """AWS Cost Explorer's GetCostAndUsage (boto3's default chain, AWS_ENDPOINT_URL honoured)."""

    kind: ClassVar[str] = "api"
    sources: ClassVar[tuple[str, ...]] = ("aws_cost_explorer",)

    def reader(self, source: str, location: str, settings: Settings) -> PayloadSource:
        from finops_assets.resources.aws_cost_explorer_api import from_location

        return from_location(location, settings)


class AzureCostQueryReader(SourceReader):
    """Azure Cost Management's Query API (DefaultAzureCredential)."""

    kind: ClassVar[str] = "api"
    sources: ClassVar[tuple[str, ...]] = ("azure_cost",)

    def reader(self, source: str, location: str, settings: Settings) -> PayloadSource:
        from finops_assets.resources.azure_cost_api import from_location

        return from_location(location, settings)


class BigQueryExportReader(SourceReader):
    """The BigQuery billing export table (Application Default Credentials)."""

    kind: ClassVar[str] = "bigquery"
    sources: ClassVar[tuple[str, ...]] = ("gcp_billing_export",)

    def reader(self, source: str, location: str, settings: Settings) -> PayloadSource:
        from finops_assets.resources.gcp_bigquery import from_location

        return from_location(location, settings)


def _unconfigured() -> Any:
    raise SettingsError("no client for this bucket")


def _clients(
    s3: Callable[[], Any] = _unconfigured,
    gcs: Callable[[], Any] = _unconfigured,
    azure_blob: Callable[[], Any] = _unconfigured,
) -> BucketClients:
    return BucketClients(s3=s3, gcs=gcs, azure_blob=azure_blob)


READER_TYPES: tuple[type[SourceReader], ...] = (
    LandingFolderReader,
    S3ExportsReader,
    GcsExportsReader,
    AzureBlobExportsReader,
    CostExplorerReader,
    AzureCostQueryReader,
    BigQueryExportReader,
)


def reader_type_for(source: str, location: str) -> type[SourceReader]:
    """The reader resource type that serves `source` from `location`, or a SettingsError naming
    FINOPS_SOURCE_<SOURCE> when no backend reads that source from there."""
    kind = location_kind(location)
    for reader_type in READER_TYPES:
        if reader_type.serves(source, kind):
            return reader_type
    raise SettingsError(
        f"FINOPS_SOURCE_{source.upper()}={location}: {source} cannot be read from {kind}"
    )


def payload_source_for(
    source: str, location: str, settings: Settings, readers: list[SourceReader]
) -> PayloadSource:
    """The PayloadSource of the first registered reader that serves `source` from `location`;
    none registered is an error naming the setting (never an unconfigured reader in its place)."""
    kind = location_kind(location)
    for candidate in readers:
        if candidate.serves(source, kind):
            return candidate.reader(source, location, settings)
    reader_type = reader_type_for(source, location)
    raise SettingsError(
        f"FINOPS_SOURCE_{source.upper()}={location}: no {kind} reader is registered for "
        f"{source} ({reader_type.__name__}); definitions.py registers one per configured location"
    )
