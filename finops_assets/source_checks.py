"""Startup checks of the gs:// and az:// source buckets, the Azure Cost Management API and the
event outbox (run by `finops check`; the AWS sources are in aws_checks.py).

Each source location (FINOPS_SOURCE_<SOURCE>) in a bucket is listed once with a short timeout
(connect and read) and no retry; the outbox database is opened (its tables created). A missing bucket, a dead
endpoint or a refused credential stops the start with one line naming the setting, before any
partition reads from it.
"""

from collections.abc import Callable
from typing import Any

from finops_assets.deploy_errors import (
    PROBE_TIMEOUT_SECONDS,
    StartupCheckError,
    first_line,
    reach_endpoint,
    source_setting,
    sources_by_bucket,
)
from finops_assets.settings import Settings, SettingsError


def _buckets(settings: Settings, scheme: str) -> dict[str, list[str]]:
    return sources_by_bucket(settings.source_locations, scheme)


def _setting(settings: Settings, source: str) -> str:
    return source_setting(settings.source_locations, source)


def _probe_each(
    settings: Settings,
    buckets: dict[str, list[str]],
    probe: Callable[[str], None],
    what: str,
    hint: str,
) -> None:
    for bucket, sources in buckets.items():
        try:
            probe(bucket)
        except Exception as error:
            raise StartupCheckError(
                f"{_setting(settings, sources[0])}: the {what} is unreachable "
                f"({first_line(error)}); check the {what} name and {hint}"
            ) from error


def _shown(scheme: str, buckets: dict[str, list[str]]) -> str:
    return ", ".join(f"{scheme}://{b} ({', '.join(s)})" for b, s in buckets.items())


def check_gcs_buckets(settings: Settings) -> str:
    """List one object of every gs:// source bucket with the registered GCS resource's client."""
    buckets = _buckets(settings, "gs")
    if not buckets:
        return "gs:// source buckets: none configured"
    from finops_assets.resources.gcs_client import GcsClientResource

    try:
        client = GcsClientResource().get_client()
    except Exception as error:  # google.auth's DefaultCredentialsError, or a bad key file
        source = next(iter(buckets.values()))[0]
        raise StartupCheckError(
            f"{_setting(settings, source)}: no Google credential ({first_line(error)}); set "
            "GOOGLE_APPLICATION_CREDENTIALS (or STORAGE_EMULATOR_HOST for an emulator)"
        ) from error

    def probe(bucket: str) -> None:
        blobs = client.list_blobs(bucket, max_results=1, timeout=PROBE_TIMEOUT_SECONDS, retry=None)
        next(iter(blobs), None)

    hint = "GOOGLE_APPLICATION_CREDENTIALS / STORAGE_EMULATOR_HOST"
    _probe_each(settings, buckets, probe, "bucket", hint)
    return f"gs:// source buckets: {_shown('gs', buckets)} reachable"


def check_azure_containers(settings: Settings) -> str:
    """List one blob of every az:// source container with the registered Azure resource's
    client (no retry, short timeouts), credential from the AZURE_STORAGE_* settings."""
    buckets = _buckets(settings, "az")
    if not buckets:
        return "az:// source containers: none configured"
    from finops_assets.resources.object_stores import azure_blob_for

    names = sorted(settings.azure_storage) or ["AZURE_STORAGE_CONNECTION_STRING"]
    hint = " / ".join(n for n in names if n.startswith("AZURE_STORAGE_"))
    try:
        client: Any = azure_blob_for(settings, resolved=True).get_client(
            retry_total=0,
            connection_timeout=PROBE_TIMEOUT_SECONDS,
            read_timeout=PROBE_TIMEOUT_SECONDS,
        )
    except (SettingsError, ValueError) as error:
        source = next(iter(buckets.values()))[0]
        raise StartupCheckError(
            f"{_setting(settings, source)}: no usable Azure credential ({first_line(error)}); "
            f"check {hint}"
        ) from error

    def probe(container: str) -> None:
        blobs = client.get_container_client(container).list_blobs(
            results_per_page=1, timeout=PROBE_TIMEOUT_SECONDS
        )
        next(iter(blobs), None)

    _probe_each(settings, buckets, probe, "container", hint)
    return f"az:// source containers: {_shown('az', buckets)} reachable"


def check_azure_cost_api(settings: Settings) -> str:
    """FINOPS_SOURCE_AZURE_COST=api: the query options are complete and the Cost Management
    endpoint answers a TCP connection. The Azure AD token is not asked for here (azure-identity's
    chain may spend many seconds probing managed identity and the CLI); a refused one fails the
    first day's run with the API's own message."""
    if settings.source_locations.get("azure_cost") != "api":
        return "Azure Cost Management: not configured"
    from finops_assets.resources.azure_cost_api import AzureQueryOptions

    where = _setting(settings, "azure_cost")
    try:
        options = AzureQueryOptions.from_env(settings.api_options)
    except SettingsError as error:
        raise StartupCheckError(f"{where}: {first_line(error)}") from error
    try:
        reach_endpoint(options.base_url)
    except OSError as error:
        raise StartupCheckError(
            f"{where}: the Cost Management endpoint {options.base_url} is unreachable "
            f"({first_line(error)}); check FINOPS_AZURE_BASE_URL and the network to Azure"
        ) from error
    return f"Azure Cost Management: {options.base_url} reachable"


def check_outbox_database(settings: Settings) -> str:
    """Open the event outbox (FINOPS_OUTBOX_DATABASE) and create its tables."""
    from finops_assets.resources.outbox_db import OutboxUnavailableError, outbox_database

    database = outbox_database(settings, settings.home / "events")
    try:
        with database.connect():
            pass
    except Exception as error:
        reason = first_line(error)
        if isinstance(error, OutboxUnavailableError):
            reason = reason.rsplit("cannot be reached: ", 1)[-1]
        names = "FINOPS_HOME"
        if database.kind == "postgres":
            names = "DAGSTER_PG_HOST, DAGSTER_PG_PORT, DAGSTER_PG_USER, DAGSTER_PG_PASSWORD, "
            names += "DAGSTER_PG_DB"
        raise StartupCheckError(
            f"the event outbox database {database.describe()} is unreachable ({reason}); check "
            f"FINOPS_OUTBOX_DATABASE={settings.outbox_database} and {names}"
        ) from error
    if database.kind == "postgres":
        return f"event outbox: PostgreSQL {database.describe()}"
    return f"event outbox: SQLite {database.sqlite_path}"
