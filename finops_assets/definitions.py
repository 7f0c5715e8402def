"""Wiring only: every stage's definitions merged, with the resources of the deployment profile."""

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
from finops_assets.resources.lake import (
    LakeResource,
    LandingResource,
    LocalLakeResource,
    ObjectStoreLakeResource,
)
from finops_assets.resources.object_stores import azure_blob_for, s3_for
from finops_assets.resources.outbox_store import (
    OutboxStoreResource,
    PostgresOutboxResource,
    SqliteOutboxResource,
)
from finops_assets.resources.profiles import refuse_embedded_backends
from finops_assets.resources.reference import FxRatesResource
from finops_assets.resources.rules import RulesResource
from finops_assets.resources.source_readers import (
    AzureBlobExportsReader,
    AzureCostQueryReader,
    BigQueryExportReader,
    CostExplorerReader,
    GcsExportsReader,
    S3ExportsReader,
    reader_type_for,
)
from finops_assets.settings import Settings
from finops_assets.store import definitions as store


def cost_forecast_for(settings: Settings) -> CostForecastResource:
    """The real Cost Explorer forecast where Cost Explorer is read through its API, else none."""
    if settings.source_locations.get("aws_cost_explorer") == "api":
        return CostExplorerForecastResource()
    return CostForecastResource()


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


def lake_for(settings: Settings, s3: S3Resource) -> LakeResource:
    """The lake: the local folder twin (embedded, FINOPS_LAKE_URI at run time, as before), or the
    object-store twin (production) with FINOPS_LAKE_URI through dg.EnvVar, reached on S3 with
    the registered `s3` resource."""
    if settings.profile != "production":
        return LocalLakeResource()
    return ObjectStoreLakeResource(lake_uri=dg.EnvVar("FINOPS_LAKE_URI"), s3=s3)


def landing_for(
    settings: Settings, s3: S3Resource, gcs: GcsClientResource, azure_blob: AzureBlobResource
) -> LandingResource:
    """Raw payloads. Embedded: the landing folder (local twin) and every real twin, on the
    registered bucket resources. Production: only the real readers of the FINOPS_SOURCE_*
    locations (a location no backend reads fails here, naming its setting)."""
    locations = dict(settings.source_locations)
    if settings.profile != "production":
        return LandingResource(
            locations=locations,
            s3=s3,
            gcs=gcs,
            azure_blob=azure_blob,
            cost_explorer=CostExplorerReader(),
            azure_cost_query=AzureCostQueryReader(),
            bigquery=BigQueryExportReader(),
        )
    served = {reader_type_for(source, loc) for source, loc in locations.items()}
    return LandingResource(
        landing_folder=False,
        locations=locations,
        s3=s3 if S3ExportsReader in served else None,
        gcs=gcs if GcsExportsReader in served else None,
        azure_blob=azure_blob if AzureBlobExportsReader in served else None,
        cost_explorer=CostExplorerReader() if CostExplorerReader in served else None,
        azure_cost_query=AzureCostQueryReader() if AzureCostQueryReader in served else None,
        bigquery=BigQueryExportReader() if BigQueryExportReader in served else None,
    )


def resources_for(settings: Settings) -> dict[str, Any]:
    """The resources of one deployment profile (FINOPS_PROFILE): embedded, the local twins;
    production, the real ones with their configuration through dg.EnvVar (read at launch)."""
    # Bucket clients: endpoint and credentials from boto3's / google-auth's chains (AWS_*, ...).
    s3, gcs, azure_blob = s3_for(settings), GcsClientResource(), azure_blob_for(settings)
    # Empty fields mean "resolve from FINOPS_* settings at run time" (never at import time).
    return {
        "s3": s3,
        "gcs": gcs,
        "azure_blob": azure_blob,
        "lake": lake_for(settings, s3),
        "landing": landing_for(settings, s3, gcs, azure_blob),
        "rates": FxRatesResource(),
        "rules": RulesResource(),
        "sinks": EventSinksResource(outbox_store=outbox_store_for(settings)),
        "cost_forecast": cost_forecast_for(settings),
    }


SETTINGS = Settings.from_env()  # a bad setting fails here, when the code location loads
refuse_embedded_backends(SETTINGS)  # production on a local lake or SQLite instance: one line
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
