"""The Helm values give the Kubernetes instance the same queue, pools, monitoring and retries as
deploy/dagster/dagster.yaml, in a form Dagster's own instance schema accepts.

The chart renders `concurrency`, `dagsterDaemon.runMonitoring` and `dagsterDaemon.runRetries`
into the instance's dagster.yaml by turning each camelCase key into Dagster's snake_case one
(its templates `dagsterYaml.concurrency` and the instance ConfigMap). `rendered_instance_blocks`
does that translation here, so the comparison runs without helm or a cluster. The chart's own
values.schema.json for 1.13.27 could not be obtained offline (see README "Deployment"); what is
validated instead is the rendered result, against the schema of the Dagster that runs it.
"""

import copy
import re
from typing import Any

import pytest
import yaml
from dagster._config import Shape, process_config
from dagster._core.instance.config import dagster_instance_config_schema

from finops_assets_tests.conftest import REPO_ROOT

VALUES = REPO_ROOT / "deploy" / "helm" / "values.yaml"
INSTANCE = REPO_ROOT / "deploy" / "dagster" / "dagster.yaml"
BLOCKS = ("concurrency", "run_monitoring", "run_retries")


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def _snake_keys(block: dict[str, Any]) -> dict[str, Any]:
    return {_snake(key): value for key, value in block.items() if key != "enabled"}


def rendered_instance_blocks(values: dict[str, Any]) -> dict[str, Any]:
    """The instance blocks the chart writes from `values` (tag limits' own keys kept as given)."""
    concurrency = values["concurrency"]
    daemon = values["dagsterDaemon"]
    rendered: dict[str, Any] = {}
    if concurrency.get("enabled"):
        rendered["concurrency"] = {
            "pools": _snake_keys(concurrency["pools"]),
            "runs": _snake_keys(concurrency["runs"]),
        }
    for block, key in (("run_monitoring", "runMonitoring"), ("run_retries", "runRetries")):
        if daemon[key].get("enabled"):
            rendered[block] = {"enabled": True, **_snake_keys(daemon[key])}
    return rendered


def _values() -> dict[str, Any]:
    return yaml.safe_load(VALUES.read_text(encoding="utf-8"))


def _instance() -> dict[str, Any]:
    return yaml.safe_load(INSTANCE.read_text(encoding="utf-8"))


def _valid(blocks: dict[str, Any]) -> tuple[bool, list[str]]:
    """Dagster's instance schema on the rendered blocks (storage is left out: it reads env)."""
    config = {"run_coordinator": _instance()["run_coordinator"], **blocks}
    result = process_config(Shape(dict(dagster_instance_config_schema())), config)
    return result.success, [error.message for error in result.errors or []]


def test_helm_values_render_the_instance_blocks_of_deploy_dagster_yaml():
    rendered = rendered_instance_blocks(_values())
    shipped = _instance()
    assert {block: shipped[block] for block in BLOCKS} == rendered


def test_the_run_limits_sit_where_the_chart_renders_them_once():
    """The chart refuses run limits both in `concurrency.runs` and in the queued coordinator."""
    daemon = _values()["dagsterDaemon"]
    assert daemon["runCoordinator"]["type"] == "QueuedRunCoordinator"
    assert not daemon["runCoordinator"]["config"]["queuedRunCoordinator"]


def test_the_rendered_instance_passes_dagsters_instance_schema():
    assert _valid(rendered_instance_blocks(_values())) == (True, [])


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("concurrency", "pools", "defaultLimit"), 2),
        (("dagsterDaemon", "runRetries", "maxRetries"), 0),
        (("dagsterDaemon", "runMonitoring", "freeSlotsAfterRunEndSeconds"), None),
        (("concurrency", "enabled"), False),
    ],
)
def test_a_drifted_value_is_caught(path, value):
    values = copy.deepcopy(_values())
    block = values
    for key in path[:-1]:
        block = block[key]
    if value is None:
        del block[path[-1]]
    else:
        block[path[-1]] = value
    shipped = _instance()
    assert {b: shipped[b] for b in BLOCKS} != rendered_instance_blocks(values)


def test_a_misspelt_value_fails_the_schema():
    values = copy.deepcopy(_values())
    values["dagsterDaemon"]["runRetries"]["maxRetry"] = 1
    ok, errors = _valid(rendered_instance_blocks(values))
    assert not ok and any("max_retry" in error for error in errors), errors
