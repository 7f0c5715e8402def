"""Dagster resources that say where the lake and the landing folder are (resolved at run time)."""

from pathlib import Path

from dagster import ConfigurableResource
from dagster_aws.s3 import S3Resource

from finops_assets.resources.azure_blob_exports import AzureBlobResource
from finops_assets.resources.gcs_client import GcsClientResource
from finops_assets.resources.payloads import PayloadSource
from finops_assets.resources.source_readers import (
    AzureBlobExportsReader,
    AzureCostQueryReader,
    BigQueryExportReader,
    CostExplorerReader,
    GcsExportsReader,
    LandingFolderReader,
    S3ExportsReader,
    SourceReader,
    payload_source_for,
)
from finops_assets.settings import Settings
from finops_assets.storage.archive import RawArchive
from finops_assets.storage.delta import DeltaLake


class LakeResource(ConfigurableResource):
    """The Delta lake and the raw archive; empty fields fall back to FINOPS_* settings at run time."""

    lake_uri: str = ""
    base_currency: str = ""

    def settings(self) -> Settings:
        return Settings.from_env()

    def delta(self) -> DeltaLake:
        settings = self.settings()
        return DeltaLake(self.lake_uri or settings.lake_uri, settings.storage_options)

    def archive(self) -> RawArchive:
        settings = self.settings()
        return RawArchive(self.lake_uri or settings.lake_uri, settings.storage_options)

    def currency(self) -> str:
        return (self.base_currency or self.settings().base_currency).upper()


class LandingResource(ConfigurableResource):
    """Where raw payloads come from, per source; the embedded default is the local landing folder.

    `locations` (source -> "landing", "api", s3://, gs://, az://, bigquery://) is filled by
    definitions.py from FINOPS_SOURCE_<SOURCE> (settings.py); empty, those settings are read at
    run time. Each location kind is served by its reader resource (source_readers.py): the local
    twin LandingFolderReader, or a real twin reading through the registered `s3`, `gcs` and
    `azure_blob` resources or a provider API. A field left unset gets the unconfigured reader
    (clients from the SDK's default chain, built on use).
    """

    landing_dir: str = ""
    locations: dict[str, str] = {}
    s3: S3Resource | None = None
    gcs: GcsClientResource | None = None
    azure_blob: AzureBlobResource | None = None
    cost_explorer: CostExplorerReader | None = None
    azure_cost_query: AzureCostQueryReader | None = None
    bigquery: BigQueryExportReader | None = None

    def folder(self) -> Path:
        return Path(self.landing_dir) if self.landing_dir else Settings.from_env().landing_dir

    def readers(self) -> list[SourceReader]:
        """The local twin first, then the real twins (registered, or unconfigured defaults)."""
        return [
            LandingFolderReader(landing_dir=str(self.folder())),
            S3ExportsReader(s3=self.s3 or S3Resource()),
            GcsExportsReader(gcs=self.gcs or GcsClientResource()),
            AzureBlobExportsReader(azure_blob=self.azure_blob or AzureBlobResource()),
            self.cost_explorer or CostExplorerReader(),
            self.azure_cost_query or AzureCostQueryReader(),
            self.bigquery or BigQueryExportReader(),
        ]

    def payloads(self, source: str = "") -> PayloadSource:
        """The payload source for `source` (the landing folder unless configured otherwise)."""
        settings = Settings.from_env()
        locations = self.locations or settings.source_locations
        location = locations.get(source, "landing") if source else "landing"
        return payload_source_for(source, location, settings, self.readers())
