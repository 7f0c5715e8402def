"""Wiring only: every stage's definitions merged, with the embedded-default resources."""

from typing import Any

import dagster as dg
from dagster_aws.s3 import S3Resource

from finops_assets.actuate import definitions as actuate
from finops_assets.allocate import definitions as allocate
from finops_assets.ingest import definitions as ingest
from finops_assets.normalize import definitions as normalize
from finops_assets.publish import definitions as publish
from finops_assets.report import definitions as report
from finops_assets.resources.azure_blob_exports import AzureBlobResource
from finops_assets.resources.cost_forecast import CostExplorerForecastResource, CostForecastResource
from finops_assets.resources.events import EventSinksResource
from finops_assets.resources.gcs_client import GcsClientResource
from finops_assets.resources.lake import LakeResource, LandingResource
from finops_assets.resources.outbox_store import (
    OutboxStoreResource,
    PostgresOutboxResource,
    SqliteOutboxResource,
)
from finops_assets.resources.reference import FxRatesResource
from finops_assets.resources.rules import RulesResource
from finops_assets.resources.source_readers import (
    AzureCostQueryReader,
    BigQueryExportReader,
    CostExplorerReader,
    location_kind,
)
from finops_assets.settings import Settings
from finops_assets.store import definitions as store


def cost_forecast_for(settings: Settings) -> CostForecastResource:
    """The real Cost Explorer forecast where Cost Explorer is read through its API, else none."""
    if settings.source_locations.get("aws_cost_explorer") == "api":
        return CostExplorerForecastResource()
    return CostForecastResource()


def azure_blob_for(settings: Settings) -> AzureBlobResource:
    """Azure Blob Storage: the connection string (or account URL) as a dg.EnvVar, read at launch
    and hidden in the UI; unset, the AZURE_STORAGE_* settings are read when a client is built."""
    if "AZURE_STORAGE_CONNECTION_STRING" in settings.azure_storage:
        return AzureBlobResource(connection_string=dg.EnvVar("AZURE_STORAGE_CONNECTION_STRING"))
    if "AZURE_STORAGE_ACCOUNT_URL" in settings.azure_storage:
        return AzureBlobResource(account_url=dg.EnvVar("AZURE_STORAGE_ACCOUNT_URL"))
    return AzureBlobResource()


def outbox_store_for(settings: Settings) -> OutboxStoreResource:
    """The outbox: SQLite under FINOPS_HOME (embedded), or PostgreSQL reached through EnvVar."""
    if settings.outbox_database != "postgres":
        return SqliteOutboxResource()
    return PostgresOutboxResource(
        host=dg.EnvVar("DAGSTER_PG_HOST"),
        port=settings.outbox_postgres.get("port", "5432"),
        user=dg.EnvVar("DAGSTER_PG_USER"),
        password=dg.EnvVar("DAGSTER_PG_PASSWORD"),
        dbname=dg.EnvVar("DAGSTER_PG_DB"),
        db_schema=settings.outbox_schema,
    )


def landing_for(
    settings: Settings, s3: S3Resource, gcs: GcsClientResource, azure_blob: AzureBlobResource
) -> LandingResource:
    """Raw payloads: the landing folder (local twin) for every source, and the real twin of
    each location FINOPS_SOURCE_* names, reading through the registered bucket resources."""
    kinds = {location_kind(location) for location in settings.source_locations.values()}
    return LandingResource(
        locations=dict(settings.source_locations),
        s3=s3,
        gcs=gcs,
        azure_blob=azure_blob,
        cost_explorer=CostExplorerReader() if "api" in kinds else None,
        azure_cost_query=AzureCostQueryReader() if "api" in kinds else None,
        bigquery=BigQueryExportReader() if "bigquery" in kinds else None,
    )


def resources_for(settings: Settings) -> dict[str, Any]:
    """The resources of one deployment profile (FINOPS_PROFILE): embedded, the local twins;
    production, the real ones with their configuration through dg.EnvVar (read at launch)."""
    # Bucket clients: endpoint and credentials from boto3's / google-auth's chains (AWS_*, ...).
    s3, gcs, azure_blob = S3Resource(), GcsClientResource(), azure_blob_for(settings)
    # Empty fields mean "resolve from FINOPS_* settings at run time" (never at import time).
    return {
        "s3": s3,
        "gcs": gcs,
        "azure_blob": azure_blob,
        "lake": LakeResource(),
        "landing": landing_for(settings, s3, gcs, azure_blob),
        "rates": FxRatesResource(),
        "rules": RulesResource(),
        "sinks": EventSinksResource(outbox_store=outbox_store_for(settings)),
        "cost_forecast": cost_forecast_for(settings),
    }


SETTINGS = Settings.from_env()  # a bad setting fails here, when the code location loads
RESOURCES = resources_for(SETTINGS)

# Stage modules are imported as modules, not their `defs`: Dagster refuses a code location with
# more than one Definitions object at module scope.
defs = dg.Definitions.merge(
    ingest.defs,
    normalize.defs,
    allocate.defs,
    store.defs,
    actuate.defs,
    report.defs,
    publish.defs,
    dg.Definitions(resources=RESOURCES),
)
