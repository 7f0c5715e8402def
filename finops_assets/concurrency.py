"""One writer per table: each Delta-writing asset holds its table's Dagster concurrency pool.

A run tag per day does not stop two runs over overlapping day ranges (a rule-change backfill
and a restated day, say) from committing to the same table at once, which Delta refuses with
CommitFailedError. A pool per table does: the instance (deploy/dagster/dagster.yaml and the
embedded default in demo.py) gives every pool one slot, so the second run waits in the queue.
"""

from dagster import DagsterInstance

from finops_assets.dagster_private import BaseAssetGraph


def writer_pool(table: str) -> str:
    """The concurrency pool that serializes writers of one table (the asset of the same name)."""
    return f"write_{table}"


def initialize_writer_pools(instance: DagsterInstance, asset_graph: BaseAssetGraph) -> list[str]:
    """Give every pool of the graph its default limit in the instance now, before any run.

    The queued-run daemon only limits pools it already knows: in the iteration where a pool's
    first runs are queued it sets the default limit but still lets them all start. Known up
    front, two runs queued together for one table cannot start together.
    """
    pools = sorted(
        {pool for key in asset_graph.get_all_asset_keys() for pool in asset_graph.get(key).pools}
    )
    storage = instance.event_log_storage
    if storage.supports_global_concurrency_limits:
        for pool in pools:
            storage.initialize_concurrency_limit_to_default(pool)
    return pools
