"""The production profile (FINOPS_PROFILE=production) on real components: PostgreSQL holds the
instance and the outbox, moto's S3 server (127.0.0.1) the lake and the exports; and what it
refuses at start (a local lake, a SQLite outbox, a SQLite instance), in one line naming the
setting, before any partition is touched."""

import datetime as dt
import subprocess
import sys
from pathlib import Path

import boto3
import dagster as dg
import pytest
from polars.testing import assert_frame_equal

from finops_assets.definitions import resources_for
from finops_assets.domain.sources import aws_cur
from finops_assets.ingest.assets import build_raw_asset
from finops_assets.resources.lake import LakeResource, LandingResource, ObjectStoreLakeResource
from finops_assets.resources.profiles import refuse_embedded_backends
from finops_assets.sample.aws_cur_writer import write_day
from finops_assets.settings import Settings, SettingsError
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake
from finops_assets_tests.conftest import REPO_ROOT

PRODUCTION_YAML = REPO_ROOT / "deploy" / "dagster" / "dagster.yaml"
DAY = dt.date(2026, 10, 2)
RAW = tables.raw_contract(aws_cur)
PG = {"DAGSTER_PG_HOST": "db", "DAGSTER_PG_USER": "dagster", "DAGSTER_PG_DB": "dagster"}


def _home(tmp_path: Path, instance_yaml: str | None) -> Path:
    """A FINOPS_HOME whose Dagster home holds `instance_yaml` (None: no dagster.yaml)."""
    (tmp_path / "dagster").mkdir(parents=True, exist_ok=True)
    if instance_yaml is not None:
        (tmp_path / "dagster" / "dagster.yaml").write_text(instance_yaml, encoding="utf-8")
    return tmp_path


def _production(home: Path, **env: str) -> Settings:
    base = {"FINOPS_HOME": str(home), "FINOPS_PROFILE": "production", **PG}
    return Settings.from_env({**base, "FINOPS_LAKE_URI": "s3://lake-bucket/lake", **env})


def _refusal(settings: Settings) -> str:
    with pytest.raises(SettingsError) as caught:
        refuse_embedded_backends(settings)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_production_refuses_a_local_lake(tmp_path):
    home = _home(tmp_path, PRODUCTION_YAML.read_text(encoding="utf-8"))
    message = _refusal(_production(home, FINOPS_LAKE_URI=str(tmp_path / "lake")))
    assert message.startswith(f"FINOPS_LAKE_URI={tmp_path / 'lake'}") and "local" in message
    message = _refusal(
        Settings.from_env({"FINOPS_HOME": str(home), **PG, "FINOPS_PROFILE": "production"})
    )
    assert message.startswith(f"FINOPS_LAKE_URI={home / 'lake'}")  # the default: a local folder
    refuse_embedded_backends(_production(home))  # an s3:// lake and a PostgreSQL instance pass


@pytest.mark.parametrize(
    "instance_yaml",
    [
        None,  # no dagster.yaml: Dagster keeps runs and events in SQLite under DAGSTER_HOME
        "storage:\n  sqlite:\n    base_dir: /var/dagster\n",
        "run_storage:\n  module: dagster_postgres.run_storage\n  class: PostgresRunStorage\n",
        "telemetry:\n  enabled: false\n",
    ],
)
def test_production_refuses_a_sqlite_instance(tmp_path, instance_yaml):
    message = _refusal(_production(_home(tmp_path, instance_yaml)))
    assert message.startswith(f"DAGSTER_HOME={tmp_path / 'dagster'}") and "SQLite" in message


def test_the_embedded_profile_refuses_nothing(tmp_path):
    refuse_embedded_backends(Settings.from_env({"FINOPS_HOME": str(_home(tmp_path, None))}))


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT), **env}
    return subprocess.run(  # noqa: S603 - this interpreter, our own module
        [sys.executable, *args],
        env=clean,
        capture_output=True,
        text=True,
        timeout=180,
        cwd=REPO_ROOT,
    )


def test_finops_check_and_the_definitions_refuse_embedded_backends(tmp_path):
    home = _home(tmp_path, PRODUCTION_YAML.read_text(encoding="utf-8"))
    lake = tmp_path / "local-lake"
    env = {
        "FINOPS_HOME": str(home),
        "FINOPS_PROFILE": "production",
        **PG,
        "DAGSTER_PG_PORT": "9",
        "FINOPS_LAKE_URI": str(lake),
        "DAGSTER_HOME": str(home / "dagster"),
    }
    check = _run(["-m", "finops_assets.cli", "check"], env)
    assert check.returncode == 2 and "Traceback" not in check.stderr
    assert check.stderr.strip() == f"finops check: {_refusal(Settings.from_env(env))}"
    assert not lake.exists()  # refused before the lake was touched (check_lake creates it)
    sqlite_outbox = _run(
        ["-m", "finops_assets.cli", "check"], {**env, "FINOPS_OUTBOX_DATABASE": "sqlite"}
    )
    assert sqlite_outbox.returncode == 2
    assert sqlite_outbox.stderr.startswith("finops check: FINOPS_OUTBOX_DATABASE=sqlite")
    load = _run(["-c", "import finops_assets.definitions"], env)
    assert load.returncode != 0
    assert (
        load.stderr.strip()
        .splitlines()[-1]
        .startswith(f"finops_assets.settings.SettingsError: FINOPS_LAKE_URI={lake}")
    )


@pytest.fixture
def production_env(tmp_path, postgres_server, s3_server, monkeypatch):
    """The production profile's environment: PostgreSQL instance and outbox, lake and exports in
    S3 buckets, the shipped dagster.yaml; one CUR day uploaded as the provider would."""
    home = _home(tmp_path / "finops", PRODUCTION_YAML.read_text(encoding="utf-8"))
    lake_bucket, exports_bucket = s3_server.new_bucket(), s3_server.new_bucket()
    env = {
        **postgres_server.env(),
        **s3_server.env(),
        "FINOPS_HOME": str(home),
        "DAGSTER_HOME": str(home / "dagster"),
        "FINOPS_PROFILE": "production",
        "FINOPS_LAKE_URI": f"s3://{lake_bucket}/lake",
        "FINOPS_SOURCE_AWS_CUR": f"s3://{exports_bucket}/exports",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    files = write_day(tmp_path / "generated", DAY, seed=5, rows_per_day=150)
    client = boto3.client("s3")
    for path in files:
        key = f"exports/aws_cur/{DAY}/{path.name}"
        client.put_object(Bucket=exports_bucket, Key=key, Body=path.read_bytes())
    return Settings.from_env(), lake_bucket, tmp_path / "generated"


@pytest.mark.slow
def test_production_resources_write_one_day_of_the_lake_to_s3(production_env, tmp_path):
    settings, lake_bucket, generated = production_env
    refuse_embedded_backends(settings)  # what the definitions' load does first
    resources = resources_for(settings)
    assert isinstance(resources["lake"], ObjectStoreLakeResource)
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        assert type(instance.run_storage).__module__.startswith("dagster_postgres")
        for _ in range(2):  # re-running the day gives the same table
            result = dg.materialize(
                [build_raw_asset(aws_cur)],
                partition_key=DAY.isoformat(),
                instance=instance,
                resources=resources,
            )
            assert result.success
    lake = DeltaLake(settings.lake_uri, settings.storage_options)
    s3_rows = lake.read_day(RAW, DAY)
    keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=lake_bucket)["Contents"]]
    assert any(k.startswith("lake/aws_cur_raw/_delta_log/") for k in keys)
    assert any(k.startswith(f"lake/_raw_archive/aws_cur/{DAY}/") for k in keys)
    assert not (settings.home / "lake").exists()  # nothing written to a local folder
    # the same files through the embedded twins: same rows, same money to the cent
    with dg.instance_for_test() as local_instance:
        local = dg.materialize(
            [build_raw_asset(aws_cur)],
            partition_key=DAY.isoformat(),
            instance=local_instance,
            resources={
                "lake": LakeResource(lake_uri=str(tmp_path / "local")),
                "landing": LandingResource(
                    landing_dir=str(generated), locations={"aws_cur": "landing"}
                ),
            },
        )
    assert local.success
    local_rows = DeltaLake(str(tmp_path / "local")).read_day(RAW, DAY)
    assert s3_rows.height == local_rows.height > 0
    assert_frame_equal(aws_cur.billed_totals(s3_rows), aws_cur.billed_totals(local_rows))
    assert_frame_equal(s3_rows.drop("x_fetched_at"), local_rows.drop("x_fetched_at"))
