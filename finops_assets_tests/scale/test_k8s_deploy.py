"""The Kubernetes profile: executor and launcher config validate, the image's command serves defs."""

import json
import os
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._config import process_config
from dagster_k8s import K8sRunLauncher, k8s_job_executor

from finops_assets_tests.conftest import REPO_ROOT

HELM = REPO_ROOT / "deploy" / "helm"
BIN = Path(sys.executable).parent


def _yaml(name: str) -> dict:
    return yaml.safe_load((HELM / name).read_text(encoding="utf-8"))


def _dockerfile_cmd() -> list[str]:
    lines = (REPO_ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines()
    return json.loads(next(line for line in lines if line.startswith("CMD "))[4:])


def test_helm_values_name_the_launcher_executor_image_and_external_postgres():
    values = _yaml("values.yaml")
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    deployment = values["dagster-user-deployments"]["deployments"][0]
    assert deployment["image"]["repository"] and deployment["image"]["tag"]
    assert deployment["dagsterApiGrpcArgs"] == ["--module-name", "finops_assets.k8s_definitions"]
    assert values["postgresql"]["enabled"] is False
    assert values["postgresql"]["postgresqlScheme"] == "postgresql+psycopg2"
    coordinator = values["dagsterDaemon"]["runCoordinator"]
    assert coordinator["type"] == "QueuedRunCoordinator"
    assert values["concurrency"]["runs"]["maxConcurrentRuns"] > 0  # the chart's run limits


def test_helm_pods_share_the_event_outbox_in_the_instance_postgres():
    """Run and step pods get no volume: the outbox must be in the instance's PostgreSQL."""
    from finops_assets.settings import Settings

    values = _yaml("values.yaml")
    deployment = values["dagster-user-deployments"]["deployments"][0]
    env = {item["name"]: item["value"] for item in deployment["env"]}
    assert deployment["includeConfigInLaunchedRuns"]["enabled"] is True  # runs get the same env
    assert env["DAGSTER_PG_HOST"] == values["postgresql"]["postgresqlHost"]
    assert env["DAGSTER_PG_USER"] == values["postgresql"]["postgresqlUsername"]
    assert env["DAGSTER_PG_DB"] == values["postgresql"]["postgresqlDatabase"]
    assert env["PGSSLMODE"] == values["postgresql"]["postgresqlParams"]["sslmode"]
    settings = Settings.from_env({**env, "DAGSTER_PG_PASSWORD": "from-the-secret"})
    assert settings.outbox_database == "postgres" and settings.outbox_postgres["port"] == "5432"
    assert settings.profile == "production"  # definitions.py registers the real twins


def test_executor_config_validates_against_k8s_job_executor():
    config = _yaml("k8s_job_executor.yaml")["execution"]["config"]
    schema = k8s_job_executor.config_schema.config_type
    assert process_config(schema, config).success
    broken = {**config, "max_concurrent": "four"}
    assert not process_config(schema, broken).success


def test_run_launcher_config_validates_against_k8s_run_launcher():
    block = _yaml("run_launcher.yaml")["run_launcher"]
    assert (block["module"], block["class"]) == ("dagster_k8s", "K8sRunLauncher")
    result = process_config(K8sRunLauncher.config_type(), block["config"])
    assert result.success, result.errors


def test_k8s_definitions_use_the_k8s_job_executor():
    from finops_assets.k8s_definitions import defs

    assert defs.executor is k8s_job_executor
    with dg.instance_for_test():  # loading definitions reads the current instance's state
        assert len(list(defs.resolve_asset_graph().get_all_asset_keys())) >= 15


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_image_command_serves_the_definitions(tmp_path):
    """Run the Dockerfile's CMD (with a free port and a local lake) and health-check the server."""
    command = _dockerfile_cmd()
    assert command[:2] == ["sh", "-c"]
    port = _free_port()
    script = command[2].replace("-p 4000", f"-p {port}").replace("-h 0.0.0.0", "-h 127.0.0.1")
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "FINOPS_HOME": str(tmp_path)}
    env.pop("DAGSTER_HOME", None)
    server = subprocess.Popen(["sh", "-c", script], env=env, cwd=tmp_path, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert server.poll() is None, f"`{shlex.join(command)}` exited {server.returncode}"
            check = [str(BIN / "dagster"), "api", "grpc-health-check", "-p", str(port)]
            if subprocess.run(check, capture_output=True).returncode == 0:
                break
            time.sleep(1)
        else:
            pytest.fail("the code server did not answer its health check within 180 s")
        validate = [str(BIN / "dagster"), "definitions", "validate", "-m"]
        result = subprocess.run(
            [*validate, "finops_assets.k8s_definitions"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr[-2000:]
    finally:
        os.killpg(server.pid, 15)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, 9)
            server.wait()
