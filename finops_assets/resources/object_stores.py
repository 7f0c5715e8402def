"""The registered S3 and Azure Blob resources of a deployment, built from its settings.

definitions.py registers them (secrets as dg.EnvVar, read at launch and hidden in the UI); the
start-up probes (aws_checks.py, source_checks.py) build the same resources with `resolved=True`:
the values are taken from the checked Settings instead, as the run will read them. Importing this
module does not load the code location.
"""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_aws.s3 import S3Resource

from finops_assets.resources.azure_blob_exports import AzureBlobResource
from finops_assets.settings import Settings

# S3Resource field -> the settings that may set it (the first one present wins).
S3_FIELDS = {
    "endpoint_url": ("AWS_ENDPOINT_URL",),
    "region_name": ("AWS_REGION", "AWS_DEFAULT_REGION"),
    "aws_access_key_id": ("AWS_ACCESS_KEY_ID",),
    "aws_secret_access_key": ("AWS_SECRET_ACCESS_KEY",),
    "aws_session_token": ("AWS_SESSION_TOKEN",),
}


def _value(name: str, env: Mapping[str, str], resolved: bool) -> Any:
    return env[name] if resolved else dg.EnvVar(name)


def s3_for(settings: Settings, resolved: bool = False) -> S3Resource:
    """The registered S3 resource: boto3's default chain (embedded); in production the AWS_*
    settings that are set, each as a dg.EnvVar (read at launch, secrets hidden in the UI), or
    with `resolved` their values in `settings`."""
    if settings.profile != "production":
        return S3Resource()
    config: dict[str, Any] = {}
    for field, names in S3_FIELDS.items():
        present = [name for name in names if name in settings.storage_options]
        if present:
            config[field] = _value(present[0], settings.storage_options, resolved)
    return S3Resource(**config)


def azure_blob_for(settings: Settings, resolved: bool = False) -> AzureBlobResource:
    """Azure Blob Storage: the connection string (or account URL) as a dg.EnvVar, read at launch
    and hidden in the UI (with `resolved` its value in `settings`); unset, the AZURE_STORAGE_*
    settings are read when a client is built."""
    env = settings.azure_storage
    if "AZURE_STORAGE_CONNECTION_STRING" in env:
        value = _value("AZURE_STORAGE_CONNECTION_STRING", env, resolved)
        return AzureBlobResource(connection_string=value)
    if "AZURE_STORAGE_ACCOUNT_URL" in env:
        return AzureBlobResource(account_url=_value("AZURE_STORAGE_ACCOUNT_URL", env, resolved))
    return AzureBlobResource()
