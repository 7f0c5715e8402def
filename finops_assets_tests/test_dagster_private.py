"""Dagster's private names we use live in finops_assets.dagster_private, pinned to one version.

An upgrade of Dagster fails here first: bump PINNED_DAGSTER_VERSION only after checking that
each private name still exists and means the same (and re-run the tests of the day-writer and
the staleness sensor, which rely on them).
"""

import importlib

import dagster as dg

from finops_assets import dagster_private

PRIVATE_NAMES = {
    "dagster._config": ["process_config"],
    "dagster._core.asset_graph_view.asset_graph_view": ["AssetGraphView", "TemporalContext"],
    "dagster._core.definitions.asset_checks.asset_check_evaluation": [
        "AssetCheckEvaluationTargetMaterializationData"
    ],
    "dagster._core.definitions.assets.graph.asset_graph_subset": ["AssetGraphSubset"],
    "dagster._core.definitions.assets.graph.base_asset_graph": ["BaseAssetGraph"],
    "dagster._core.definitions.data_version": [
        "DATA_VERSION_IS_USER_PROVIDED_TAG",
        "DATA_VERSION_TAG",
        "CachingStaleStatusResolver",
        "StaleCause",
        "StaleStatus",
    ],
    "dagster._core.definitions.events": ["AssetKeyPartitionKey"],
    "dagster._core.execution.plan.execute_step": [
        "_build_data_version_tags",
        "_get_code_version",
        "_get_input_provenance_data",
    ],
    "dagster._core.instance.config": ["dagster_instance_config", "dagster_instance_config_schema"],
    "dagster._core.instance.ref": ["InstanceRef"],
    "dagster._core.launcher.base": ["CheckRunHealthResult", "WorkerStatus"],
    "dagster._core.storage.asset_check_execution_record": ["AssetCheckExecutionRecordStatus"],
    "dagster._core.storage.event_log.sqlite.sqlite_event_log": [
        "INDEX_SHARD_NAME",
        "SQLITE_BUSY_TIMEOUT_SECONDS",
        "SqliteEventLogStorage",
    ],
    "dagster._core.storage.sqlite_storage": [
        "DagsterSqliteStorage",
        "SqliteRunStorage",
        "SqliteScheduleStorage",
        "_event_logs_directory",
        "_runs_directory",
        "_schedule_directory",
    ],
    "dagster._serdes": ["ConfigurableClassData"],
    "dagster._time": ["get_current_datetime"],
}


def test_dagster_is_the_pinned_version():
    assert dg.__version__ == dagster_private.PINNED_DAGSTER_VERSION == "1.13.27"


def test_every_private_name_still_exists():
    missing = [
        f"{module}.{name}"
        for module, names in PRIVATE_NAMES.items()
        for name in names
        if not hasattr(importlib.import_module(module), name)
    ]
    assert missing == []


def test_no_other_module_imports_dagster_private_modules():
    from pathlib import Path

    package = Path(dagster_private.__file__).parent
    offenders = [
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if path.name != "dagster_private.py"
        and any(
            line.lstrip().startswith(("from dagster._", "import dagster._"))
            for line in path.read_text(encoding="utf-8").splitlines()
        )
    ]
    assert offenders == []
