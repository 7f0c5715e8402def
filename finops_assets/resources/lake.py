"""Dagster resources that say where the lake and the landing folder are (resolved at run time)."""

from pathlib import Path

from dagster import ConfigurableResource

from finops_assets.resources.payloads import PayloadSource
from finops_assets.resources.source_backends import payload_source_for
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

    FINOPS_SOURCE_<SOURCE> (see settings.py) switches one source to a real backend at run time.
    """

    landing_dir: str = ""

    def folder(self) -> Path:
        return Path(self.landing_dir) if self.landing_dir else Settings.from_env().landing_dir

    def payloads(self, source: str = "") -> PayloadSource:
        """The payload source for `source` (the landing folder unless configured otherwise)."""
        settings = Settings.from_env()
        location = settings.source_locations.get(source, "landing") if source else "landing"
        return payload_source_for(source, location, self.folder(), settings)
