"""What the topology test does through the webserver, as an operator or the UI would: launch
runs, switch sensors on, read their ticks; and how it waits (bounded, with the servers' logs)."""

import time
from collections.abc import Callable

import dagster as dg

from finops_assets_tests.servers.production_stack import ProductionStack

SENSORS = ("landing_folder_sensor", "reallocation_sensor")
SENSOR_TAG = "dagster/sensor_name"
FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}
WAIT_SECONDS = 600  # a bound on each wait; on an idle machine each ends in seconds
LAUNCH = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on InvalidSubsetError { message }
    ... on RunConfigValidationInvalid { errors { message } }
  }
}"""
START_SENSOR = """
mutation Start($selector: SensorSelector!) {
  startSensor(sensorSelector: $selector) { __typename ... on PythonError { message } }
}"""
TICKS = """
query Ticks($selector: SensorSelector!) {
  sensorOrError(sensorSelector: $selector) {
    ... on Sensor { sensorState { ticks(limit: 30) { status timestamp error { message } } } }
  }
}"""


def wait_for(
    what: str, condition: Callable[[], object], stack: ProductionStack, timeout=WAIT_SECONDS
):
    """Poll `condition` until truthy; on timeout fail with the daemon's and servers' last logs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.25)
    logs = "".join(
        f"\n--- {name}\n{(stack.web.home / name).read_text(errors='replace')[-2500:]}"
        for name in ("daemon.log", "code_server.log")
    )
    raise AssertionError(f"timed out after {timeout} s waiting for {what}{logs}")


def launch(stack: ProductionStack, keys: list[str], tags: dict[str, str]) -> str:
    """launchRun over GraphQL, as the UI's Materialize button does; the new run's id."""
    selector = {
        **stack.web.repository_selector(),
        "jobName": "__ASSET_JOB",
        "assetSelection": [{"path": [key]} for key in keys],
    }
    params = {
        "selector": selector,
        "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in tags.items()]},
    }
    result = stack.web.graphql(LAUNCH, {"params": params})["launchRun"]
    assert result["__typename"] == "LaunchRunSuccess", result
    return result["run"]["runId"]


def status(instance: dg.DagsterInstance, run_id: str) -> str:
    run = instance.get_run_by_id(run_id)
    return run.status.value if run else "MISSING"


def finished(instance, stack, run_id: str, timeout: float = WAIT_SECONDS) -> str:
    return wait_for(  # type: ignore[return-value]
        f"run {run_id} to finish",
        lambda: (s := status(instance, run_id)) in FINISHED and s,
        stack,
        timeout,
    )


def start_sensor(stack: ProductionStack, sensor: str) -> None:
    """Switch a sensor on over GraphQL (the UI's toggle)."""
    selector = {**stack.web.repository_selector(), "sensorName": sensor}
    started = stack.web.graphql(START_SENSOR, {"selector": selector})["startSensor"]
    assert started["__typename"] == "Sensor", started


def ticks_since(stack: ProductionStack, sensor: str, since: float) -> int:
    """Completed evaluations of `sensor` that began after `since`; a failed one fails the test."""
    selector = {**stack.web.repository_selector(), "sensorName": sensor}
    state = stack.web.graphql(TICKS, {"selector": selector})["sensorOrError"]["sensorState"]
    ticks = [t for t in state["ticks"] if t["timestamp"] > since]
    failed = [t for t in ticks if t["status"] == "FAILURE"]
    assert not failed, failed
    return len([t for t in ticks if t["status"] != "STARTED"])


def both_sensors_looked_twice(stack: ProductionStack, since: float) -> None:
    for sensor in SENSORS:
        wait_for(f"2 ticks of {sensor}", lambda s=sensor: ticks_since(stack, s, since) >= 2, stack)


def sensor_runs(instance: dg.DagsterInstance) -> dict[str, list[dg.DagsterRun]]:
    """Every run each sensor launched, oldest first (counted by Dagster's sensor tag)."""
    return {
        name: list(reversed(instance.get_runs(filters=dg.RunsFilter(tags={SENSOR_TAG: name}))))
        for name in SENSORS
    }
