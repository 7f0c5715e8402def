"""GraphQL the UI tests share: per-day staleness, starting a sensor, waiting for its backfill."""

import time

from finops_assets_tests.servers.dagster_stack import DagsterStack

STALE_QUERY = """
query Stale($key: AssetKeyInput!, $partitions: [String!]!) {
  assetNodeOrError(assetKey: $key) {
    ... on AssetNode { staleStatusByPartition(partitions: $partitions) }
  }
}"""
START_SENSOR = """
mutation Start($selector: SensorSelector!) {
  startSensor(sensorSelector: $selector) {
    __typename
    ... on Sensor { sensorState { status } }
    ... on PythonError { message }
  }
}"""
BACKFILLS = """
{ partitionBackfillsOrError(limit: 10) {
    ... on PartitionBackfills {
      results { id status isAssetBackfill runs(limit: 50) { runId status } }
    }
} }"""
TERMINAL = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}


def stale_by_day(stack: DagsterStack, key: str, partitions: list[str]) -> list[str]:
    """staleStatusByPartition of `key` for `partitions`, over GraphQL."""
    data = stack.graphql(STALE_QUERY, {"key": {"path": [key]}, "partitions": partitions})
    return data["assetNodeOrError"]["staleStatusByPartition"]


def start_sensor_and_wait_for_backfill(
    stack: DagsterStack, sensor: str, timeout: float = 900
) -> dict:
    """Start `sensor` over GraphQL; once the daemon's only backfill ended, return it."""
    selector = {**stack.repository_selector(), "sensorName": sensor}
    started = stack.graphql(START_SENSOR, {"selector": selector})["startSensor"]
    assert started["__typename"] == "Sensor", started
    deadline = time.monotonic() + timeout  # 420 s timed out mid-backfill at load 29 on 2 cores
    while time.monotonic() < deadline:
        backfills = stack.graphql(BACKFILLS)["partitionBackfillsOrError"]["results"]
        if backfills and all(b["status"] in TERMINAL for b in backfills):
            assert len(backfills) == 1, backfills
            return backfills[0]
        time.sleep(2)
    raise TimeoutError(f"backfill did not finish: {stack.logs.read_text()[-4000:]}")
