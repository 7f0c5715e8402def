"""GCP billing export files in GCS: the real raw asset against fake-gcs-server on 127.0.0.1."""

import datetime as dt
import os

import dagster as dg
import pytest
from dagster_gcp import GCSResource
from google.cloud import storage

from finops_assets.domain.sources import gcp_billing_export
from finops_assets.ingest.assets import build_raw_asset
from finops_assets.resources.gcs_client import GcsClientResource
from finops_assets.resources.gcs_exports import from_location, parse_location
from finops_assets.resources.lake import LakeResource, LandingResource
from finops_assets.sample import gcp_billing_export_writer
from finops_assets.settings import Settings, SettingsError
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake
from finops_assets_tests.servers.gcs_emulator import fake_gcs_server

DAY = dt.date(2026, 10, 1)  # the 1st: tax rows too
BUCKET = "acme-billing"
RAW = tables.raw_contract(gcp_billing_export)


@pytest.fixture(scope="module")
def gcs_url():
    """One emulator for the module; STORAGE_EMULATOR_HOST points google-cloud-storage at it."""
    previous = os.environ.get("STORAGE_EMULATOR_HOST")
    with fake_gcs_server() as url:
        os.environ["STORAGE_EMULATOR_HOST"] = url
        try:
            yield url
        finally:
            if previous is None:
                os.environ.pop("STORAGE_EMULATOR_HOST", None)
            else:
                os.environ["STORAGE_EMULATOR_HOST"] = previous


@pytest.fixture
def bucket(gcs_url, request):
    client = storage.Client()
    name = f"{BUCKET}-{abs(hash(request.node.name)) % 10**8}"
    return client.create_bucket(name)


def _upload(bucket, prefix, paths, landing):
    for path in paths:
        bucket.blob(f"{prefix}/{path.relative_to(landing)}").upload_from_filename(str(path))


def _materialize_raw(lake, landing):
    asset = build_raw_asset(gcp_billing_export)
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [asset],
            partition_key=DAY.isoformat(),
            instance=instance,
            resources={
                "lake": LakeResource(lake_uri=str(lake)),
                "landing": LandingResource(landing_dir=str(landing)),
            },
        )
    assert result.success
    return DeltaLake(str(lake)).read_day(RAW, DAY)


@pytest.mark.slow
def test_raw_asset_ingests_csv_and_parquet_from_gcs_with_landing_totals(
    bucket, tmp_path, monkeypatch
):
    landing = tmp_path / "landing"
    paths = gcp_billing_export_writer.write_day(landing, DAY, seed=7, rows_per_day=300)
    assert {p.suffix for p in paths} == {".csv", ".parquet"}
    _upload(bucket, "exports/v1", paths, landing)
    from_landing = _materialize_raw(tmp_path / "lake_landing", landing)

    monkeypatch.setenv("FINOPS_SOURCE_GCP_BILLING_EXPORT", f"gs://{bucket.name}/exports/v1")
    from_gcs = _materialize_raw(tmp_path / "lake_gcs", tmp_path / "empty_landing")

    assert from_gcs.height == from_landing.height > 300  # + credits-free tax rows on the 1st
    assert gcp_billing_export.billed_totals(from_gcs).equals(
        gcp_billing_export.billed_totals(from_landing)
    )
    assert set(from_gcs["x_source_file"]) == {f"gcp_billing_export/{DAY}/{p.name}" for p in paths}
    archive = tmp_path / "lake_gcs" / "_raw_archive" / "gcp_billing_export" / DAY.isoformat()
    archived = sorted(f.read_bytes() for f in archive.iterdir())  # byte for byte
    assert archived == sorted(p.read_bytes() for p in paths)


def test_fetch_reads_only_the_day_folder_with_the_update_time(bucket):
    day_folder = f"p/gcp_billing_export/{DAY}"
    bucket.blob(f"{day_folder}/a.csv").upload_from_string(b"one")
    bucket.blob(f"{day_folder}/nested/b.csv").upload_from_string(b"deeper")
    bucket.blob(f"{day_folder}/.part").upload_from_string(b"hidden")
    bucket.blob(f"p/gcp_billing_export/{DAY + dt.timedelta(days=1)}/c.csv").upload_from_string(b"x")
    source = from_location(f"gs://{bucket.name}/p", Settings.from_env({}))
    payloads = source.fetch("gcp_billing_export", DAY)
    assert [(p.name, p.data) for p in payloads] == [(f"gcp_billing_export/{DAY}/a.csv", b"one")]
    updated = bucket.get_blob(f"{day_folder}/a.csv").updated
    assert payloads[0].fetched_at == updated.replace(microsecond=0)
    assert source.fetch("gcp_billing_export", DAY - dt.timedelta(days=1)) == []


def test_location_parsing():
    assert parse_location("gs://b/exports/v1/") == ("b", "exports/v1")
    assert parse_location("gs://b") == ("b", "")
    with pytest.raises(SettingsError):
        parse_location("s3://b/x")


class CountingGcs(GcsClientResource):
    """The registered GCS resource, counting the clients it builds (to see the reads use it)."""

    def get_client(self):  # type: ignore[no-untyped-def]
        CLIENTS_BUILT.append(self.project)
        return super().get_client()


CLIENTS_BUILT: list[str | None] = []


def test_gs_reads_use_the_registered_gcs_resource(bucket, tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    paths = gcp_billing_export_writer.write_day(landing, DAY, seed=3, rows_per_day=40)
    _upload(bucket, "exports/v2", paths, landing)
    monkeypatch.delenv("FINOPS_SOURCE_GCP_BILLING_EXPORT", raising=False)
    CLIENTS_BUILT.clear()
    resource = LandingResource(
        landing_dir=str(tmp_path / "empty"),
        locations={"gcp_billing_export": f"gs://{bucket.name}/exports/v2"},
        gcs=CountingGcs(project="billing-project"),
    )
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [build_raw_asset(gcp_billing_export)],
            partition_key=DAY.isoformat(),
            instance=instance,
            resources={"lake": LakeResource(lake_uri=str(tmp_path / "lake")), "landing": resource},
        )
    assert result.success
    assert CLIENTS_BUILT and set(CLIENTS_BUILT) == {"billing-project"}
    assert DeltaLake(str(tmp_path / "lake")).read_day(RAW, DAY).height >= 40


def test_a_run_that_reads_no_gs_location_builds_no_google_client(tmp_path, monkeypatch):
    """dagster-gcp's GCSResource builds its client when a run starts (nested in the landing
    resource, every run would need Google credentials); the registered GcsClientResource does not,
    and the landing resource takes only that one."""
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "no-such-key.json"))
    landing = tmp_path / "landing"
    gcp_billing_export_writer.write_day(landing, DAY, seed=3, rows_per_day=20)

    def materialize(gcs):
        with dg.instance_for_test() as instance:
            return dg.materialize(
                [build_raw_asset(gcp_billing_export)],
                partition_key=DAY.isoformat(),
                instance=instance,
                raise_on_error=False,
                resources={
                    "lake": LakeResource(lake_uri=str(tmp_path / f"lake-{type(gcs).__name__}")),
                    "gcs": gcs,
                    "landing": LandingResource(
                        landing_dir=str(landing),
                        locations={"gcp_billing_export": "landing"},
                        gcs=gcs,
                    ),
                },
            )

    assert materialize(GcsClientResource()).success
    with pytest.raises(Exception, match="instance of GcsClientResource"):  # the eager one
        LandingResource(gcs=GCSResource())
    with pytest.raises(Exception, match="no-such-key.json"):  # what it would do at run start
        GCSResource().get_object_to_set_on_execution_context()
