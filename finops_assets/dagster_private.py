"""Every use of Dagster's private modules (`dagster._...`), in one place.

Dagster does not promise these names across releases; the test
finops_assets_tests/test_dagster_private.py pins the Dagster version and asserts that each one
still exists, so an upgrade breaks here and nowhere else. Pinned to dagster 1.13.27.
"""

from collections.abc import Mapping, Sequence

import dagster as dg
from dagster._config import process_config
from dagster._core.asset_graph_view.asset_graph_view import AssetGraphView, TemporalContext
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData,
)
from dagster._core.definitions.assets.graph.asset_graph_subset import AssetGraphSubset
from dagster._core.definitions.assets.graph.base_asset_graph import BaseAssetGraph
from dagster._core.definitions.data_version import (
    DATA_VERSION_IS_USER_PROVIDED_TAG,
    DATA_VERSION_TAG,
    CachingStaleStatusResolver,
    StaleCause,
    StaleStatus,
)
from dagster._core.definitions.events import AssetKeyPartitionKey
from dagster._core.execution.plan.execute_step import (
    _build_data_version_tags,
    _get_code_version,
    _get_input_provenance_data,
)
from dagster._core.instance.config import dagster_instance_config, dagster_instance_config_schema
from dagster._core.instance.ref import InstanceRef
from dagster._core.launcher.base import CheckRunHealthResult, WorkerStatus
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
)
from dagster._core.storage.sqlite_storage import (
    DagsterSqliteStorage,
    SqliteRunStorage,
    SqliteScheduleStorage,
    _event_logs_directory,
    _runs_directory,
    _schedule_directory,
)
from dagster._serdes import ConfigurableClassData
from dagster._time import get_current_datetime

PINNED_DAGSTER_VERSION = "1.13.27"

__all__ = [
    "DATA_VERSION_IS_USER_PROVIDED_TAG",
    "DATA_VERSION_TAG",
    "INDEX_SHARD_NAME",
    "PINNED_DAGSTER_VERSION",
    "SQLITE_BUSY_TIMEOUT_SECONDS",
    "AssetCheckEvaluationTargetMaterializationData",
    "AssetGraphSubset",
    "AssetKeyPartitionKey",
    "BaseAssetGraph",
    "CachingStaleStatusResolver",
    "CheckRunHealthResult",
    "ConfigurableClassData",
    "DagsterSqliteStorage",
    "InstanceRef",
    "SqliteEventLogStorage",
    "SqliteRunStorage",
    "SqliteScheduleStorage",
    "StaleCause",
    "StaleStatus",
    "WorkerStatus",
    "_event_logs_directory",
    "_runs_directory",
    "_schedule_directory",
    "dagster_instance_config",
    "dagster_instance_config_schema",
    "data_version_tags",
    "get_current_datetime",
    "latest_check_results",
    "latest_check_targets",
    "process_config",
    "stale_status_resolver",
]


def stale_status_resolver(
    instance: dg.DagsterInstance, asset_graph: BaseAssetGraph
) -> CachingStaleStatusResolver:
    """Dagster's per-partition staleness resolver (STALE, FRESH, MISSING) as of now."""
    view = AssetGraphView(
        temporal_context=TemporalContext(effective_dt=get_current_datetime(), last_event_id=None),
        instance=instance,
        asset_graph=asset_graph,
    )
    return CachingStaleStatusResolver(instance, asset_graph, view)


def data_version_tags(context: dg.AssetExecutionContext, data_version: str) -> Mapping[str, str]:
    """The tags Dagster puts on a materialization with a user-provided data version.

    Besides the version itself they carry the code version and the provenance (the data version
    and event of each upstream asset), which the staleness resolver compares later. Used for a
    per-day materialization of a ranged run, where the output's events share one data version.
    """
    step_context = context.op_execution_context._step_execution_context  # noqa: SLF001
    key = context.asset_key
    return _build_data_version_tags(
        dg.DataVersion(data_version),
        _get_code_version(key, step_context),
        _get_input_provenance_data(key, step_context),
        True,
    )


def latest_check_targets(
    instance: dg.DagsterInstance, key: dg.AssetKey, days: Sequence[str] | None = None
) -> dict[str, AssetCheckEvaluationTargetMaterializationData]:
    """Per materialized day of `key` (all, or only `days`), its latest materialization.

    A partitioned check result shows in the UI (the check's partition bar, per-day status) only
    when it names the materialization it judged: Dagster keeps a day's check status "current"
    while the day's latest materialization is the one the result targets, and clears it when
    the day is materialized again. An `AssetCheckEvaluation` reported per day must carry it.
    """
    latest = instance.get_latest_storage_id_by_partition(
        key, dg.DagsterEventType.ASSET_MATERIALIZATION, set(days) if days is not None else None
    )
    if not latest:
        return {}
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, storage_ids=list(latest.values())), limit=len(latest)
    ).records
    by_id = {record.storage_id: record for record in records}
    return {
        day: AssetCheckEvaluationTargetMaterializationData(
            storage_id=storage_id,
            run_id=by_id[storage_id].run_id,
            timestamp=by_id[storage_id].timestamp,
        )
        for day, storage_id in sorted(latest.items())
        if storage_id in by_id
    }


def latest_check_results(
    instance: dg.DagsterInstance, check: dg.AssetCheckKey, days: Sequence[str]
) -> dict[str, tuple[bool, bool]]:
    """Per day, the latest result of a partitioned check: (passed, shown).

    `shown`: the result targets the day's latest materialization, so the UI shows it (Dagster
    clears a day's check status when the day is materialized again). Days without a finished
    result are left out.
    """
    infos = instance.event_log_storage.get_asset_check_partition_info(
        [check], partition_keys=list(days)
    )
    done = {
        AssetCheckExecutionRecordStatus.SUCCEEDED: True,
        AssetCheckExecutionRecordStatus.FAILED: False,
    }
    return {
        info.partition_key: (done[info.latest_execution_status], info.is_current)
        for info in infos
        if info.partition_key is not None and info.latest_execution_status in done
    }
