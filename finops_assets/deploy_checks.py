"""Startup checks: the Dagster instance database, every source location and the lake are reachable,
before any run.

`finops check` runs them (the code location image runs it before serving definitions), so a
wrong database URL or an unreachable bucket stops the start with one clear message instead of
failing later, partition by partition.
"""

import re
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow.fs as pafs

from finops_assets.aws_checks import check_cost_explorer, check_source_buckets
from finops_assets.deploy_errors import PROBE_TIMEOUT_SECONDS, StartupCheckError
from finops_assets.settings import Settings, lake_scheme
from finops_assets.source_checks import (
    check_azure_containers,
    check_azure_cost_api,
    check_gcs_buckets,
    check_outbox_database,
)
from finops_assets.storage.archive import s3_filesystem

_UNSET_VARIABLE = re.compile(r'environment variable "(\w+)" which is not set')


def check_instance_storage(dagster_home: Path) -> str:
    """Connect to the instance's PostgreSQL (when configured) and run `SELECT 1`."""
    from finops_assets.dagster_private import dagster_instance_config

    if not (dagster_home / "dagster.yaml").exists():
        return f"Dagster instance: embedded SQLite under {dagster_home}"
    config, _ = dagster_instance_config(str(dagster_home))
    postgres = _postgres_db_config(config)
    if postgres is None:
        return f"Dagster instance: {dagster_home / 'dagster.yaml'} (no PostgreSQL storage)"
    import sqlalchemy as sa
    from dagster_postgres.utils import pg_url_from_config

    url = pg_url_from_config(postgres)
    where = sa.engine.make_url(url).render_as_string(hide_password=True)
    try:
        engine = sa.create_engine(
            url, connect_args={"connect_timeout": PROBE_TIMEOUT_SECONDS}, poolclass=sa.NullPool
        )
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except Exception as error:
        reason = str(getattr(error, "orig", error)).strip().splitlines()[0]
        raise StartupCheckError(
            f"the Dagster instance database {where} is unreachable ({reason}); "
            "check DAGSTER_PG_HOST, DAGSTER_PG_PORT, DAGSTER_PG_USER, DAGSTER_PG_PASSWORD, "
            "DAGSTER_PG_DB"
        ) from error
    return f"Dagster instance: PostgreSQL {where}"


def _postgres_db_config(config: Mapping[str, Any]) -> dict[str, Any] | None:
    """The resolved postgres storage config (postgres_db only), or None for other storages."""
    from finops_assets.dagster_private import dagster_instance_config_schema, process_config

    storage = (config.get("storage") or {}).get("postgres")
    if not storage:
        return None
    result = process_config(dagster_instance_config_schema(), config)
    if not result.success or result.value is None:
        messages = [error.message for error in result.errors or []]
        unset = sorted({m for text in messages for m in _UNSET_VARIABLE.findall(text)})
        reason = f"environment variables not set: {', '.join(unset)}" if unset else messages[0]
        raise StartupCheckError(f"the Dagster instance config cannot be resolved ({reason})")
    return {"postgres_db": result.value["storage"]["postgres"]["postgres_db"]}


def check_lake(settings: Settings) -> str:
    """Prove the lake root can be written: create a probe object under it and delete it."""
    scheme = lake_scheme(settings.lake_uri)
    try:
        if scheme == "file":
            root = Path(settings.lake_uri)
            root.mkdir(parents=True, exist_ok=True)
            probe = root / f".finops-probe-{uuid.uuid4().hex}"
            probe.write_bytes(b"ok")
            probe.unlink()
        elif scheme in ("s3", "s3a"):
            _probe_s3(settings)
        else:
            _probe_with_deltalake(settings)
    except StartupCheckError:
        raise
    except Exception as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise StartupCheckError(
            f"the lake {settings.lake_uri} is unreachable ({reason}); check FINOPS_LAKE_URI and "
            "the AWS_* / GOOGLE_* / AZURE_* settings that reach it"
        ) from error
    return f"lake: {settings.lake_uri} (writable)"


def _probe_s3(settings: Settings) -> None:
    bucket, _, prefix = settings.lake_uri.split("://", 1)[1].partition("/")
    fs = s3_filesystem(
        settings.storage_options,
        connect_timeout=PROBE_TIMEOUT_SECONDS,
        request_timeout=PROBE_TIMEOUT_SECONDS,
        retry_strategy=pafs.AwsStandardS3RetryStrategy(max_attempts=1),
    )
    if fs.get_file_info(bucket).type != pafs.FileType.Directory:
        raise StartupCheckError(
            f"the lake {settings.lake_uri} is unreachable (bucket {bucket!r} does not exist); "
            "check FINOPS_LAKE_URI"
        )
    probe = "/".join(p for p in (bucket, prefix.strip("/"), f".finops-probe-{uuid.uuid4().hex}"))
    with fs.open_output_stream(probe) as out:
        out.write(b"ok")
    fs.delete_file(probe)


def _probe_with_deltalake(settings: Settings) -> None:
    import deltalake

    options = {"timeout": f"{PROBE_TIMEOUT_SECONDS}s", "max_retries": "1"}
    options.update(settings.storage_options)
    deltalake.DeltaTable.is_deltatable(settings.table_uri("normalized_costs"), options)


def prepare_writer_pools(dagster_home: Path) -> str:
    """Give every table writer pool its limit in the instance before the first run is queued."""
    if not (dagster_home / "dagster.yaml").exists():
        return "Table writer pools: no dagster.yaml yet (`finops dev` writes the embedded one)"
    from dagster import DagsterInstance

    from finops_assets.concurrency import initialize_writer_pools
    from finops_assets.definitions import defs

    with DagsterInstance.from_config(str(dagster_home)) as instance:
        pools = initialize_writer_pools(instance, defs.resolve_asset_graph())
        limit = instance.global_op_concurrency_default_limit
    return f"Table writer pools: {len(pools)} known to the instance (default limit {limit})"


def run_startup_checks(settings: Settings) -> list[str]:
    """Every startup check in order; raises StartupCheckError at the first failure.

    The production profile first refuses the embedded backends (SettingsError), before any
    database, bucket or lake folder is touched. The probes that only read (the instance
    database, every FINOPS_SOURCE_* location) run before the ones that write (the lake's probe
    object, the outbox's tables, the writer pools), so a failing source leaves nothing behind."""
    from finops_assets.resources.profiles import refuse_embedded_backends

    refuse_embedded_backends(settings)
    reads = [
        check_instance_storage(settings.dagster_home),
        check_source_buckets(settings),
        check_gcs_buckets(settings),
        check_azure_containers(settings),
        check_cost_explorer(settings),
        check_azure_cost_api(settings),
    ]
    return reads + [
        check_lake(settings),
        check_outbox_database(settings),
        prepare_writer_pools(settings.dagster_home),
    ]
