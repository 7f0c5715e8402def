"""Dagster resources that say where the lake and the landing folder are (resolved at run time)."""

from pathlib import Path

from dagster import ConfigurableResource
from dagster_aws.s3 import S3Resource
from pydantic import Field

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
from finops_assets.settings import Settings, SettingsError, lake_scheme
from finops_assets.storage.archive import RawArchive
from finops_assets.storage.delta import DeltaLake


class LakeResource(ConfigurableResource):
    """The Delta lake and the raw archive, as every asset takes it (the interface).

    Built bare it follows the FINOPS_* settings at run time (empty fields), as the embedded
    twin does; definitions.py registers LocalLakeResource or ObjectStoreLakeResource.
    """

    lake_uri: str = ""
    base_currency: str = ""

    def settings(self) -> Settings:
        return Settings.from_env()

    def root_for(self, settings: Settings) -> str:
        """The lake root URI (a local folder or an object-store URI)."""
        return self.lake_uri or settings.lake_uri

    def storage_options_for(self, settings: Settings) -> dict[str, str]:
        """The Delta / Arrow storage options that reach the lake root."""
        return dict(settings.storage_options)

    def delta(self) -> DeltaLake:
        settings = self.settings()
        return DeltaLake(self.root_for(settings), self.storage_options_for(settings))

    def archive(self) -> RawArchive:
        settings = self.settings()
        return RawArchive(self.root_for(settings), self.storage_options_for(settings))

    def currency(self) -> str:
        return (self.base_currency or self.settings().base_currency).upper()


class LocalLakeResource(LakeResource):
    """The embedded twin: the lake folder under FINOPS_HOME, or FINOPS_LAKE_URI read at run time
    (one machine: a test or a demo may point it at a bucket, as before the profiles)."""


# S3Resource field -> the Delta/Arrow storage option it sets.
_S3_OPTIONS = {
    "endpoint_url": "AWS_ENDPOINT_URL",
    "region_name": "AWS_REGION",
    "aws_access_key_id": "AWS_ACCESS_KEY_ID",
    "aws_secret_access_key": "AWS_SECRET_ACCESS_KEY",
    "aws_session_token": "AWS_SESSION_TOKEN",
}


class ObjectStoreLakeResource(LakeResource):
    """The production twin: the lake in an object store (s3://, gs://, abfss://), never a local
    folder (pods share no disk). `lake_uri` comes through dg.EnvVar("FINOPS_LAKE_URI"); an s3://
    lake is reached with the registered `s3` resource's endpoint, region and credentials, the
    rest of the storage options from the AWS_* / GOOGLE_* / AZURE_* settings."""

    lake_uri: str
    s3: S3Resource | None = None

    def root_for(self, settings: Settings) -> str:
        if lake_scheme(self.lake_uri) == "file":
            raise SettingsError(local_lake_refusal(self.lake_uri))
        return self.lake_uri

    def storage_options_for(self, settings: Settings) -> dict[str, str]:
        scheme = lake_scheme(self.root_for(settings))  # a local folder is refused here too
        options = dict(settings.storage_options)
        if self.s3 is not None and scheme in ("s3", "s3a"):
            for name, option in _S3_OPTIONS.items():
                value = getattr(self.s3, name, None)
                if value:
                    options[option] = str(value)
        return options


def local_lake_refusal(lake_uri: str) -> str:
    """The one line refusing a local lake folder in the production profile."""
    return (
        f"FINOPS_LAKE_URI={lake_uri}: a local folder cannot hold the lake in the production "
        "profile (FINOPS_PROFILE=production; pods share no disk); set it to s3://, gs:// or "
        "abfss://"
    )


class LandingResource(ConfigurableResource):
    """Where raw payloads come from, per source; the embedded default is the local landing folder.

    `locations` (source -> "landing", "api", s3://, gs://, az://, bigquery://) is filled by
    definitions.py from FINOPS_SOURCE_<SOURCE> (settings.py); empty, those settings are read at
    run time. Each location kind is served by its reader resource (source_readers.py): the local
    twin LandingFolderReader (when `landing_folder`), or a real twin reading through the
    registered `s3`, `gcs` and `azure_blob` resources or a provider API. Built bare, every reader
    is registered with its SDK's default chain (as the embedded profile does, on the registered
    bucket resources); production sets the ones no location uses to None. A reader set to None
    is not registered: its location fails naming the setting, never served by a stand-in.
    """

    landing_dir: str = ""
    landing_folder: bool = True
    locations: dict[str, str] = {}
    s3: S3Resource | None = Field(default_factory=S3Resource)
    gcs: GcsClientResource | None = Field(default_factory=GcsClientResource)
    azure_blob: AzureBlobResource | None = Field(default_factory=AzureBlobResource)
    cost_explorer: CostExplorerReader | None = Field(default_factory=CostExplorerReader)
    azure_cost_query: AzureCostQueryReader | None = Field(default_factory=AzureCostQueryReader)
    bigquery: BigQueryExportReader | None = Field(default_factory=BigQueryExportReader)

    def folder(self) -> Path:
        return Path(self.landing_dir) if self.landing_dir else Settings.from_env().landing_dir

    def readers(self) -> list[SourceReader]:
        """The registered readers: the local twin first (when registered), then the real twins."""
        readers: list[SourceReader | None] = [
            LandingFolderReader(landing_dir=str(self.folder())) if self.landing_folder else None,
            S3ExportsReader(s3=self.s3) if self.s3 is not None else None,
            GcsExportsReader(gcs=self.gcs) if self.gcs is not None else None,
            (
                AzureBlobExportsReader(azure_blob=self.azure_blob)
                if self.azure_blob is not None
                else None
            ),
            self.cost_explorer,
            self.azure_cost_query,
            self.bigquery,
        ]
        return [reader for reader in readers if reader is not None]

    def payloads(self, source: str = "") -> PayloadSource:
        """The payload source for `source` (the landing folder unless configured otherwise)."""
        settings = Settings.from_env()
        locations = self.locations or settings.source_locations
        location = locations.get(source, "") if source else ""
        if not location and not self.landing_folder:
            raise SettingsError(
                f"FINOPS_SOURCE_{source.upper()} is unset: {source} would be read from the "
                "landing folder, which the production profile (FINOPS_PROFILE=production) does "
                f"not read; set FINOPS_SOURCE_{source.upper()} to its s3://, gs://, az://, "
                "bigquery:// or api location"
            )
        return payload_source_for(source, location or "landing", settings, self.readers())
