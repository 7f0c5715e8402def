"""The production topology on one machine, end to end (issue 19, Deliver 4).

Every part is a real process on 127.0.0.1, each on a free port:
  - PostgreSQL 15 holding the Dagster instance (runs, event log, schedules) and the event outbox;
  - the lake in an S3 bucket (moto server over HTTP);
  - a gRPC code server (`dagster api grpc`), the only process that loads our code location;
  - `dagster-daemon run` and `dagster-webserver`, both reaching the code through a workspace file;
  - deploy/dagster/dagster.yaml as shipped (queued runs with tag limits, one slot per table pool,
    run monitoring, one retry), with only its waits shortened (`topology_instance_config`);
  - runs dequeued by the daemon and started by the code server (DefaultRunLauncher), each in
    its own process.
The scenario, all through the webserver's GraphQL API as an operator or the UI would:
  1. the rules, then two days of every asset the money check reads (the raw tables up to
     allocated_costs) in one ranged run;
  2. kill -9 of that run's worker inside a step: the run ends FAILURE, run retries start it
     again, and the lake ends exact (money of every stage equal to the billing files, each day
     once). The killed step's pool slot is never given back by the dead worker: without
     `free_slots_after_run_end_seconds` in dagster.yaml the retry waited for ever on that step
     ("Step blocked by limit for pool azure_cost_management_api", seen before the fix);
  3. both sensors switched on: 0 runs over the loaded lake, 1 run for a day that lands;
  4. the daemon restarted while another day lands: the sensors resume from their cursors, that
     day gets 1 run and no earlier day a second one (runs counted by sensor tag).
Runs use the in-process executor (steps inside the run worker; see topology/in_process_defs.py).
"""

import datetime as dt
import os
import signal
import subprocess
import time
from pathlib import Path

import dagster as dg
import pytest
import yaml

from finops_assets.sample.generate import generate_estate
from finops_assets.settings import Settings
from finops_assets.storage.delta import DeltaLake
from finops_assets_tests.chaos.money import landing_truth, stage_balance
from finops_assets_tests.conftest import REPO_ROOT
from finops_assets_tests.servers.dagster_stack import BIN
from finops_assets_tests.servers.postgres import running_postgres
from finops_assets_tests.servers.production_stack import running_production_stack
from finops_assets_tests.servers.s3 import running_s3
from finops_assets_tests.topology.operate import (
    SENSORS,
    both_sensors_looked_twice,
    finished,
    launch,
    sensor_runs,
    start_sensor,
    status,
    wait_for,
)

pytestmark = [pytest.mark.slow, pytest.mark.production_topology]

PRODUCTION_YAML = REPO_ROOT / "deploy" / "dagster" / "dagster.yaml"
MODULE = "finops_assets_tests.topology.in_process_defs"
START = dt.date(2026, 10, 1)
LOADED = [START, START + dt.timedelta(days=1)]
SENSED = [START + dt.timedelta(days=n) for n in (2, 3)]
ROWS_PER_DAY = 40
KILL_AFTER_STEPS = 2  # two raw tables written, the third step under way (holding its slot)


def topology_instance_config() -> dict:
    """deploy/dagster/dagster.yaml as shipped, with only the daemon's waits shortened."""
    config = yaml.safe_load(PRODUCTION_YAML.read_text(encoding="utf-8"))
    config["run_coordinator"]["config"] = {"dequeue_interval_seconds": 1}
    config["run_monitoring"]["poll_interval_seconds"] = 5
    return config


def test_the_topology_runs_the_shipped_instance_config_with_shorter_waits_only():
    shipped = yaml.safe_load(PRODUCTION_YAML.read_text(encoding="utf-8"))
    used = topology_instance_config()
    assert used.keys() == shipped.keys()
    for key in shipped:
        if key not in ("run_coordinator", "run_monitoring"):
            assert used[key] == shipped[key], key
    assert {k: v for k, v in used["run_monitoring"].items() if k != "poll_interval_seconds"} == {
        k: v for k, v in shipped["run_monitoring"].items() if k != "poll_interval_seconds"
    }
    assert used["run_coordinator"]["class"] == shipped["run_coordinator"]["class"]
    assert "run_launcher" not in used  # Dagster's DefaultRunLauncher, as in production


def worker_pid_inside_step(instance, run_id: str, done: int) -> int | None:
    """The run worker's pid (its RUN_START event) once `done` steps succeeded and the next one
    started (it holds its pool's slot from before STEP_START), else None."""
    started = instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_START)
    succeeded = instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_SUCCESS)
    if len(succeeded) < done or len(started) <= len(succeeded):
        return None
    [run_start] = instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_START)
    return run_start.dagster_event.pid


def land(staged: Path, landing: Path, day: dt.date) -> None:
    """Move one generated day into the landing folder, folder by folder (atomic renames)."""
    for folder in sorted(staged.glob(f"*/{day.isoformat()}")):
        (landing / folder.parent.name).mkdir(parents=True, exist_ok=True)
        folder.rename(landing / folder.parent.name / folder.name)


def assert_money_exact(settings: Settings, days: list[dt.date]) -> None:
    """normalized_costs and allocated_costs hold exactly the billing files' money per day."""
    truth = landing_truth(settings.landing_dir, days)
    assert {day for day, _ in truth} == set(days)
    lost, duplicated = stage_balance(
        DeltaLake(settings.lake_uri, settings.storage_options), truth, days
    )
    assert (lost, duplicated) == ({}, {})


def money_path() -> list[str]:
    """allocated_costs and every asset upstream of it but the rules: the stages whose money
    `assert_money_exact` compares (the sensors' runs then take a landed day through them all)."""
    from finops_assets_tests.topology.in_process_defs import defs  # after the test's env is set

    graph = defs.resolve_asset_graph()
    selection = dg.AssetSelection.assets("allocated_costs").upstream()
    return sorted(
        k.to_user_string() for k in selection.resolve(graph) if k.path != ["allocation_rules"]
    )


@pytest.fixture
def topology(tmp_path, monkeypatch):
    """PostgreSQL, S3, two landed days (two more staged), `finops check`, then the stack."""
    with running_postgres() as postgres, running_s3() as s3:
        env = {
            **postgres.env(),
            **s3.env(),
            "FINOPS_HOME": str(tmp_path / "finops"),
            # explicit: an earlier test in the session may have left DAGSTER_HOME set
            "DAGSTER_HOME": str(tmp_path / "finops" / "dagster"),
            "FINOPS_LAKE_URI": f"s3://{s3.new_bucket()}/lake",
            "FINOPS_OUTBOX_DATABASE": "postgres",
            "FINOPS_SENSOR_INTERVAL_SECONDS": "2",
            "PYTHONPATH": str(REPO_ROOT),
        }
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        settings = Settings.from_env()
        home = settings.dagster_home
        monkeypatch.setenv("DAGSTER_HOME", str(home))
        home.mkdir(parents=True)
        config = yaml.safe_dump(topology_instance_config())
        (home / "dagster.yaml").write_text(config, encoding="utf-8")
        generate_estate(settings.landing_dir, LOADED[0], len(LOADED), rows_per_day=ROWS_PER_DAY)
        staged = tmp_path / "staged"
        generate_estate(staged, SENSED[0], len(SENSED), rows_per_day=ROWS_PER_DAY)
        # the operator's first command after a deploy: storage, lake and pool limits
        check = subprocess.run(  # noqa: S603 - our own CLI from the venv
            [str(BIN / "finops"), "check"], env=dict(os.environ), capture_output=True, text=True
        )
        assert check.returncode == 0, check.stderr
        with (
            dg.DagsterInstance.from_config(str(home)) as instance,
            running_production_stack(home, MODULE, dict(os.environ)) as stack,
        ):
            yield stack, instance, settings, staged


def test_production_topology_survives_a_killed_worker_and_a_daemon_restart(topology):
    stack, instance, settings, staged = topology
    began = time.monotonic()
    assert type(instance.run_storage).__module__.startswith("dagster_postgres")
    assert type(instance.run_launcher) is dg.DefaultRunLauncher
    assert instance.run_monitoring_enabled and instance.run_retries_enabled
    assert instance.event_log_storage.get_concurrency_info("write_allocated_costs").slot_count == 1

    # 1. the rules, then two days up to allocated_costs in one ranged run, launched over GraphQL
    assert finished(instance, stack, launch(stack, ["allocation_rules"], {})) == "SUCCESS"
    run_id = launch(
        stack,
        money_path(),
        {
            "dagster/asset_partition_range_start": LOADED[0].isoformat(),
            "dagster/asset_partition_range_end": LOADED[-1].isoformat(),
        },
    )

    # 2. kill -9 of its worker mid-run: FAILURE, retried, and the lake exact
    worker = wait_for(
        f"step {KILL_AFTER_STEPS + 1} to start",
        lambda: worker_pid_inside_step(instance, run_id, KILL_AFTER_STEPS),
        stack,
    )
    assert status(instance, run_id) == "STARTED"
    os.kill(worker, signal.SIGKILL)
    killed_at = time.monotonic()
    assert finished(instance, stack, run_id) == "FAILURE"
    failed_after = time.monotonic() - killed_at
    # who noticed: the code server that started the worker saw it die (DefaultRunLauncher has no
    # worker health check for run monitoring; the Helm profile's K8sRunLauncher has one)
    messages = [r.message for r in instance.all_logs(run_id) if r.message]
    assert any("terminated by signal 9 (SIGKILL)" in m for m in messages), messages[-5:]
    retry = wait_for(
        "the automatic retry",
        lambda: instance.get_runs(filters=dg.RunsFilter(tags={"dagster/parent_run_id": run_id})),
        stack,
    )[0]
    assert retry.tags["dagster/retry_number"] == "1"
    assert finished(instance, stack, retry.run_id) == "SUCCESS"
    retried_after = time.monotonic() - killed_at
    assert_money_exact(settings, LOADED)

    # 3. both sensors on: nothing to do over the loaded lake, one run for a day that lands
    for sensor in SENSORS:
        start_sensor(stack, sensor)
    both_sensors_looked_twice(stack, time.time())
    assert sensor_runs(instance) == {name: [] for name in SENSORS}
    land(staged, settings.landing_dir, SENSED[0])
    [day_run] = wait_for("the landed day's run", lambda: sensor_runs(instance)[SENSORS[0]], stack)
    assert day_run.tags["dagster/partition"] == SENSED[0].isoformat()
    assert finished(instance, stack, day_run.run_id) == "SUCCESS"
    both_sensors_looked_twice(stack, time.time())
    before = {name: [r.run_id for r in runs] for name, runs in sensor_runs(instance).items()}

    # 4. the daemon restarted while another day lands: resumed cursors, 1 new run, no repeat
    stack.stop_daemon()
    land(staged, settings.landing_dir, SENSED[1])
    stack.start_daemon()
    both_sensors_looked_twice(stack, stack.daemon_starts[-1])
    after = sensor_runs(instance)
    assert [r.run_id for r in after[SENSORS[0]]][: len(before[SENSORS[0]])] == before[SENSORS[0]]
    [new_run] = after[SENSORS[0]][len(before[SENSORS[0]]) :]
    assert new_run.tags["dagster/partition"] == SENSED[1].isoformat()
    assert after[SENSORS[1]] == [] == before[SENSORS[1]]
    assert finished(instance, stack, new_run.run_id) == "SUCCESS"
    assert_money_exact(settings, LOADED + SENSED)
    all_runs = instance.get_runs()
    print(  # the figures README quotes (pytest -s shows them)
        f"\ntopology: {len(all_runs)} runs, killed run FAILURE after {failed_after:.1f} s, "
        f"retry SUCCESS {retried_after:.1f} s after the kill, total {time.monotonic() - began:.0f} s"
    )
    assert len(all_runs) == 5  # rules, killed run, its retry, one run per landed day
