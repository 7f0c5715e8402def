"""The whole graph on a Dagster instance stored in a real PostgreSQL, from deploy/dagster.yaml."""

import datetime as dt
import shutil

import dagster as dg
import pytest

from finops_assets.demo import materialize_window
from finops_assets.sample.generate import generate_estate
from finops_assets.settings import Settings
from finops_assets_tests.conftest import REPO_ROOT

pytestmark = pytest.mark.slow

START = dt.date(2026, 10, 1)
DAYS = [START, START + dt.timedelta(days=1)]
PRODUCTION_YAML = REPO_ROOT / "deploy" / "dagster" / "dagster.yaml"
CHECKED_ASSETS = ("aws_cur_raw", "normalized_costs", "allocated_costs", "budget_events")


@pytest.fixture(scope="module")
def postgres_run(tmp_path_factory, postgres_server):
    """Two days of every asset materialized on the production instance config."""
    home = tmp_path_factory.mktemp("finops-pg")
    dagster_home = home / "dagster"
    dagster_home.mkdir()
    shutil.copy(PRODUCTION_YAML, dagster_home / "dagster.yaml")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FINOPS_HOME", str(home))
        patch.setenv("DAGSTER_HOME", str(dagster_home))
        for key, value in postgres_server.env().items():
            patch.setenv(key, value)
        settings = Settings.from_env()
        generate_estate(settings.landing_dir, START, len(DAYS), rows_per_day=300)
        with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
            result = materialize_window(instance, DAYS[0], DAYS[-1])
            yield instance, result


def test_instance_from_the_production_yaml_is_postgres(postgres_run):
    instance, _ = postgres_run
    for storage in (instance.run_storage, instance.event_log_storage, instance.schedule_storage):
        assert type(storage).__module__.startswith("dagster_postgres"), type(storage)


def test_whole_graph_run_is_recorded_in_the_instance(postgres_run):
    instance, result = postgres_run
    assert result.success
    run = instance.get_run_by_id(result.run_id)
    assert run is not None and run.status == dg.DagsterRunStatus.SUCCESS
    for name in CHECKED_ASSETS:
        partitions = instance.get_materialized_partitions(dg.AssetKey(name))
        assert {d.isoformat() for d in DAYS} <= partitions, name


def test_runs_and_materializations_are_rows_in_postgres(postgres_run, postgres_server):
    _, result = postgres_run
    with postgres_server.connect() as connection, connection.cursor() as cursor:
        cursor.execute("SELECT status FROM runs WHERE run_id = %s", (result.run_id,))
        assert cursor.fetchall() == [("SUCCESS",)]
        cursor.execute(
            "SELECT asset_key, partition FROM event_logs "
            "WHERE run_id = %s AND dagster_event_type = 'ASSET_MATERIALIZATION'",
            (result.run_id,),
        )
        recorded = set(cursor.fetchall())
    for name in CHECKED_ASSETS:
        key = dg.AssetKey(name).to_string()
        assert {(key, d.isoformat()) for d in DAYS} <= recorded, name
