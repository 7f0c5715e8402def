"""Which implementation serves a billing source: the landing folder, a cloud API or a bucket.

Chosen at run time from FINOPS_SOURCE_<SOURCE> (settings.source_locations):

| value                          | implementation                                   |
|--------------------------------|--------------------------------------------------|
| `landing` (default)            | LandingFolder: <landing>/<source>/<day>/          |
| `api`                          | the provider API (Cost Explorer, Azure Query)    |
| `s3://bucket/prefix`           | export files in S3                               |
| `gs://bucket/prefix`           | export files in Google Cloud Storage             |
| `bigquery://project.dataset.table` | the BigQuery billing export table            |
| `az://container/prefix`        | export files in Azure Blob Storage               |

Real implementations are imported lazily so that the embedded default needs no cloud SDK.
Bucket backends read through the clients of the registered Dagster resources (`s3`, `gcs`,
`azure_blob`), the same the export sensors list with (BucketClients).
"""

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Any

from finops_assets.resources.payloads import LandingFolder, PayloadSource
from finops_assets.settings import Settings, SettingsError


@dataclass(frozen=True)
class BucketClients:
    """How bucket backends get their client: from the registered S3, GCS and Azure resources."""

    s3: Callable[[], Any]
    gcs: Callable[[], Any]
    azure_blob: Callable[[], Any]


# (source, location kind) -> "module:factory"; each factory takes (location, settings, clients).
_BACKENDS: dict[tuple[str, str], str] = {
    ("aws_cost_explorer", "api"): "finops_assets.resources.aws_cost_explorer_api:from_location",
    ("azure_cost", "api"): "finops_assets.resources.azure_cost_api:from_location",
    ("gcp_billing_export", "bigquery"): "finops_assets.resources.gcp_bigquery:from_location",
    ("*", "s3"): "finops_assets.resources.s3_exports:from_location",
    ("*", "gs"): "finops_assets.resources.gcs_exports:from_location",
    ("*", "az"): "finops_assets.resources.azure_blob_exports:from_location",
}


def location_kind(location: str) -> str:
    """'landing', 'api', or the URI scheme of a bucket or table location."""
    if location in ("landing", "api"):
        return location
    if "://" not in location:
        raise SettingsError(f"source location {location!r} is not 'landing', 'api' or a URI")
    return location.split("://", 1)[0].lower()


def payload_source_for(
    source: str, location: str, landing_dir: Path, settings: Settings, clients: BucketClients
) -> PayloadSource:
    """The PayloadSource serving `source` from `location`."""
    kind = location_kind(location)
    if kind == "landing":
        return LandingFolder(landing_dir)
    target = _BACKENDS.get((source, kind)) or _BACKENDS.get(("*", kind))
    if target is None:
        raise SettingsError(
            f"FINOPS_SOURCE_{source.upper()}={location!r}: {source} cannot be read from {kind}"
        )
    module_name, factory = target.split(":")
    try:
        module = import_module(module_name)
    except ModuleNotFoundError as error:
        raise SettingsError(
            f"FINOPS_SOURCE_{source.upper()}={location!r}: backend {module_name} is not available"
            f" ({error})"
        ) from error
    return getattr(module, factory)(location, settings, clients)
