"""Per-day results of a partitioned asset check over GraphQL (what its partition bar shows)."""

import datetime as dt

from finops_assets_tests.servers.dagster_stack import DagsterStack

CHECK_DAYS = """
query CheckDays($key: AssetKeyInput!) {
  assetNodeOrError(assetKey: $key) {
    ... on AssetNode {
      assetChecksOrError {
        ... on AssetChecks {
          checks {
            name
            description
            partitionStatuses {
              __typename
              ... on AssetCheckTimePartitionStatuses { ranges { startKey endKey status } }
            }
          }
        }
      }
    }
  }
}"""


def check_days(
    stack: DagsterStack, key: str, check: str = "check_rules_current"
) -> tuple[dict[str, list[str]], str]:
    """`check` of `key` (default check_rules_current): its days per status (FAILED, SUCCEEDED...),
    its description."""
    data = stack.graphql(CHECK_DAYS, {"key": {"path": [key]}})
    checks = data["assetNodeOrError"]["assetChecksOrError"]["checks"]
    [found_check] = [c for c in checks if c["name"] == check]
    statuses = found_check["partitionStatuses"]
    assert statuses["__typename"] == "AssetCheckTimePartitionStatuses", statuses
    days: dict[str, list[str]] = {}
    for found in statuses["ranges"]:
        day = dt.date.fromisoformat(found["startKey"])
        while day <= dt.date.fromisoformat(found["endKey"]):
            days.setdefault(found["status"], []).append(day.isoformat())
            day += dt.timedelta(days=1)
    return days, found_check["description"]
