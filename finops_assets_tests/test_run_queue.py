"""One writer per day and per table: the run queue of both instance profiles, on SQLite.

The queue's decisions are Dagster's own: runs of the product's job are created on a real SQLite
instance with the embedded default's dagster.yaml, and the queued-run daemon's dequeue step says
which may start. Only the launch is left out (the runs are created, not executed).
"""

from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._core.remote_origin import (
    InProcessCodeLocationOrigin,
    RemoteJobOrigin,
    RemoteRepositoryOrigin,
)
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._daemon.run_coordinator.queued_run_coordinator_daemon import (
    QueuedRunCoordinatorDaemon,
)

from finops_assets.definitions import defs
from finops_assets.demo import EMBEDDED_MAX_CONCURRENT_RUNS, prepare_instance
from finops_assets.settings import Settings
from finops_assets_tests.conftest import REPO_ROOT

MODULE = "finops_assets.definitions"
QUEUED, STARTED = dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.STARTED
PARTITION_LIMIT = {
    "key": "dagster/partition",
    "value": {"applyLimitPerUniqueValue": True},
    "limit": 1,
}


@pytest.fixture
def instance(tmp_path, monkeypatch):
    monkeypatch.setenv("FINOPS_HOME", str(tmp_path / "finops"))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    with prepare_instance(Settings.from_env()) as instance:
        yield instance


def _run(instance, keys, days, status):
    """A run of the product's asset job over `keys` and `days`, as a sensor or backfill makes."""
    job = defs.resolve_implicit_global_asset_job_def().get_subset(
        asset_selection={dg.AssetKey(k) for k in keys}
    )
    if len(days) == 1:
        tags = {"dagster/partition": days[0]}
    else:
        tags = {
            "dagster/asset_partition_range_start": days[0],
            "dagster/asset_partition_range_end": days[-1],
        }
    location = InProcessCodeLocationOrigin(LoadableTargetOrigin(module_name=MODULE))
    origin = RemoteJobOrigin(RemoteRepositoryOrigin(location, "__repository__"), job.name)
    return instance.create_run_for_job(job, status=status, tags=tags, remote_job_origin=origin)


def _dequeued(instance) -> set[str]:
    daemon = QueuedRunCoordinatorDaemon(interval_seconds=1)
    runs = daemon._get_runs_to_dequeue(instance, instance.get_concurrency_config(), None)
    return {run.run_id for run in runs}


@pytest.mark.slow
def test_the_embedded_default_queues_runs_like_production(instance):
    config = instance.get_concurrency_config()
    assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
    assert config.run_queue_config.max_concurrent_runs == EMBEDDED_MAX_CONCURRENT_RUNS
    assert config.run_queue_config.tag_concurrency_limits == [PARTITION_LIMIT]
    assert config.pool_config.default_pool_limit == 1
    assert config.pool_config.pool_granularity.value == "run"


@pytest.mark.slow
def test_a_dagster_yaml_of_the_operator_is_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("FINOPS_HOME", str(tmp_path))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    own = "# mine\ntelemetry:\n  enabled: false\n"
    (tmp_path / "dagster").mkdir()
    (tmp_path / "dagster" / "dagster.yaml").write_text(own, encoding="utf-8")
    with prepare_instance(Settings.from_env()):
        pass
    assert (tmp_path / "dagster" / "dagster.yaml").read_text(encoding="utf-8") == own


def test_every_asset_that_writes_a_table_holds_a_writer_pool():
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        pools = graph.get(key).pools
        assert len(pools) == 1, (key, pools)


@pytest.mark.slow
def test_an_overlapping_day_range_waits_for_the_running_backfill(instance):
    backfill = ["allocated_costs", "allocation_audit", "cost_by_business_unit", "budget_status"]
    days = ["2026-10-01", "2026-10-02", "2026-10-03"]
    running = _run(instance, backfill, days, STARTED)
    restated = _run(instance, ["normalized_costs", "allocated_costs"], days[1:2], QUEUED)
    other_table = _run(instance, ["fx_rates"], ["2026-10-09"], QUEUED)
    # The restated day writes allocated_costs, which the backfill is writing: it waits, though
    # no run carries its day's tag. A run writing other tables may start beside it.
    assert _dequeued(instance) == {other_table.run_id}
    instance.report_run_failed(running)  # the backfill ends (how does not matter to the queue)
    assert _dequeued(instance) == {restated.run_id, other_table.run_id}


@pytest.mark.slow
def test_two_runs_of_the_same_day_never_start_together(instance):
    first = _run(instance, ["fx_rates"], ["2026-10-02"], QUEUED)
    _run(instance, ["service_catalog"], ["2026-10-02"], QUEUED)
    assert _dequeued(instance) == {first.run_id}


def _limits(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_the_production_profiles_limit_runs_per_day_and_writers_per_table():
    deploy = _limits(REPO_ROOT / "deploy" / "dagster" / "dagster.yaml")
    assert deploy["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert 0 < deploy["concurrency"]["runs"]["max_concurrent_runs"] <= 8
    assert PARTITION_LIMIT in deploy["concurrency"]["runs"]["tag_concurrency_limits"]
    assert deploy["concurrency"]["pools"]["default_limit"] == 1
    helm = _limits(REPO_ROOT / "deploy" / "helm" / "values.yaml")
    queue = helm["concurrency"]["runs"]  # the chart's concurrency block (test_helm_instance_parity)
    assert PARTITION_LIMIT in queue["tagConcurrencyLimits"]
    assert 0 < queue["maxConcurrentRuns"] <= 8
    assert helm["concurrency"]["pools"]["defaultLimit"] == 1
