"""Wiring only: every stage's definitions merged, with the embedded-default resources."""

import dagster as dg
from dagster_aws.s3 import S3Resource
from dagster_gcp import GCSResource

from finops_assets.actuate import definitions as actuate
from finops_assets.allocate import definitions as allocate
from finops_assets.ingest import definitions as ingest
from finops_assets.normalize import definitions as normalize
from finops_assets.publish import definitions as publish
from finops_assets.report import definitions as report
from finops_assets.resources.azure_blob_exports import AzureBlobResource
from finops_assets.resources.cost_forecast import CostExplorerForecastResource, CostForecastResource
from finops_assets.resources.events import EventSinksResource
from finops_assets.resources.lake import LakeResource, LandingResource
from finops_assets.resources.reference import FxRatesResource
from finops_assets.resources.rules import RulesResource
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


SETTINGS = Settings.from_env()  # a bad setting fails here, when the code location loads
# Bucket clients: endpoint and credentials from boto3's / google-auth's chains (AWS_*, ...).
S3, GCS, AZURE_BLOB = S3Resource(), GCSResource(), azure_blob_for(SETTINGS)

# Empty fields mean "resolve from FINOPS_* settings at run time" (never at import time).
RESOURCES = {
    "s3": S3,
    "gcs": GCS,
    "azure_blob": AZURE_BLOB,
    "lake": LakeResource(),
    "landing": LandingResource(
        locations=dict(SETTINGS.source_locations), s3=S3, azure_blob=AZURE_BLOB
    ),
    "rates": FxRatesResource(),
    "rules": RulesResource(),
    "sinks": EventSinksResource(),
    "cost_forecast": cost_forecast_for(SETTINGS),
}

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
