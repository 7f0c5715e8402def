"""Every use of Dagster's private modules (`dagster._...`), in one place.

Dagster does not promise these names across releases; the test
finops_assets_tests/test_dagster_private.py pins the Dagster version and asserts that each one
still exists, so an upgrade breaks here and nowhere else. Pinned to dagster 1.13.27.
"""

from collections.abc import Mapping

import dagster as dg
from dagster._config import process_config
from dagster._core.asset_graph_view.asset_graph_view import AssetGraphView, TemporalContext
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
from dagster._core.launcher.base import CheckRunHealthResult, WorkerStatus
from dagster._time import get_current_datetime

PINNED_DAGSTER_VERSION = "1.13.27"

__all__ = [
    "DATA_VERSION_IS_USER_PROVIDED_TAG",
    "DATA_VERSION_TAG",
    "PINNED_DAGSTER_VERSION",
    "AssetGraphSubset",
    "AssetKeyPartitionKey",
    "BaseAssetGraph",
    "CachingStaleStatusResolver",
    "CheckRunHealthResult",
    "StaleCause",
    "StaleStatus",
    "WorkerStatus",
    "dagster_instance_config",
    "dagster_instance_config_schema",
    "data_version_tags",
    "get_current_datetime",
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
