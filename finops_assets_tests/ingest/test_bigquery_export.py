"""The BigQuery billing export table: query building, Parquet serialization, the real client."""

import contextlib
import datetime as dt

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery

from finops_assets.domain.sources import gcp_billing_export
from finops_assets.ingest.assets import build_raw_asset
from finops_assets.resources import gcp_bigquery
from finops_assets.resources.gcp_bigquery import BigQueryBillingExport, day_query, parse_table
from finops_assets.resources.lake import LakeResource, LandingResource
from finops_assets.sample import gcp_billing_export_writer
from finops_assets.settings import SettingsError
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake
from finops_assets_tests.servers.bigquery_api import BigQueryApiState, bigquery_api

DAY = dt.date(2026, 10, 4)
TABLE = "acme-billing.billing_export.gcp_billing_export_resource_v1_0123AB"
KEY = dict(source_file="f", ingestion_key="k", fetched_at=dt.datetime(2026, 10, 5, tzinfo=dt.UTC))


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    """A real nested Parquet export of the day (the writer's GKE file): bytes and Arrow table."""
    landing = tmp_path_factory.mktemp("landing")
    paths = gcp_billing_export_writer.write_day(landing, DAY, seed=5, rows_per_day=600)
    parquet = next(p for p in paths if p.suffix == ".parquet")
    return parquet.read_bytes(), pq.read_table(parquet)


@pytest.fixture
def server(export):
    with bigquery_api(BigQueryApiState(table=export[1])) as running:
        yield running


def _client_factory(url):
    """The real client on the local server; AnonymousCredentials stand in for ADC (no GCP here)."""

    def factory(project):
        client = bigquery.Client(
            project=project,
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": url},
        )
        return contextlib.closing(client)

    return factory


def test_the_query_prunes_partitions_and_filters_the_day_with_parameters():
    sql, params = day_query(TABLE, DAY)
    assert f"FROM `{TABLE}`" in sql and "2026" not in sql
    assert "_PARTITIONTIME BETWEEN @partition_from AND @partition_to" in sql
    assert "usage_start_time >= @day_start AND usage_start_time < @day_end" in sql
    assert "CAST(cost AS NUMERIC)" in sql
    midnight = dt.datetime(2026, 10, 4, tzinfo=dt.UTC)
    assert params == {
        "partition_from": midnight - dt.timedelta(days=1),
        "partition_to": midnight + dt.timedelta(days=2),
        "day_start": midnight,
        "day_end": midnight + dt.timedelta(days=1),
    }


@pytest.mark.parametrize("bad", ["bigquery://p.d", "bigquery://p.d.t`; DROP", "gs://p.d.t"])
def test_table_names_are_validated(bad):
    with pytest.raises(SettingsError):
        parse_table(bad)


def test_the_client_sends_parameters_and_the_payload_parses_to_the_files_totals(server, export):
    source = BigQueryBillingExport(TABLE, _client_factory(server.url))
    payloads = source.fetch("gcp_billing_export", DAY)
    assert [p.name for p in payloads] == [
        f"gcp_billing_export/{DAY}/bigquery-gcp_billing_export_resource_v1_0123AB.parquet"
    ]
    request = server.requests[0]
    assert request["path"].startswith("/bigquery/v2/projects/acme-billing/queries")
    params = {p["name"]: p["parameterValue"]["value"] for p in request["body"]["queryParameters"]}
    assert params["day_start"].startswith("2026-10-04") and params["day_end"].startswith(
        "2026-10-05"
    )
    assert params["partition_from"].startswith("2026-10-03")
    assert request["body"]["useLegacySql"] is False
    schema = pq.read_schema(pa.BufferReader(payloads[0].data))
    assert schema.field("cost").type == pa.decimal128(38, 9)  # NUMERIC, never a float
    credit_amount = schema.field("credits").type.value_type.field("amount").type
    assert credit_amount == pa.decimal128(38, 9)
    from_query = gcp_billing_export.parse(payloads[0].data, **KEY)
    from_file = gcp_billing_export.parse(export[0], **KEY)
    assert from_query.rows.height == from_file.rows.height == export[1].num_rows
    assert gcp_billing_export.billed_totals(from_query.rows).equals(
        gcp_billing_export.billed_totals(from_file.rows)
    )


@pytest.mark.slow
def test_raw_asset_reads_the_bigquery_table(server, export, tmp_path, monkeypatch):
    monkeypatch.setenv("FINOPS_SOURCE_GCP_BILLING_EXPORT", f"bigquery://{TABLE}")
    # The only stand-in: dagster-gcp's BigQueryResource needs Google credentials (none here).
    monkeypatch.setattr(gcp_bigquery, "bigquery_client", _client_factory(server.url))
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [build_raw_asset(gcp_billing_export)],
            partition_key=DAY.isoformat(),
            instance=instance,
            resources={
                "lake": LakeResource(lake_uri=str(tmp_path / "lake")),
                "landing": LandingResource(landing_dir=str(tmp_path / "landing")),
            },
        )
    assert result.success
    raw = DeltaLake(str(tmp_path / "lake")).read_day(tables.raw_contract(gcp_billing_export), DAY)
    expected = gcp_billing_export.parse(export[0], **KEY).rows
    assert raw.height == expected.height
    assert gcp_billing_export.billed_totals(raw).equals(gcp_billing_export.billed_totals(expected))
