"""No secret value reaches logs, run records, event payloads, files or Delta tables.

The whole graph runs on a real Dagster instance with secrets set in the environment the way a
deployment sets them: AWS keys for the CUR bucket (a moto S3 server), a Slack webhook URL and a
PagerDuty routing key for the sinks (local recording HTTPS servers), all read through EnvVar or
the provider's credential chain. Then every place the run could have written is searched.
"""

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import boto3
import dagster as dg
import polars as pl
import pytest
from dagster._serdes import serialize_value

from finops_assets.definitions import defs
from finops_assets.resources.budgets import BudgetsResource
from finops_assets.resources.events import EventSinksResource
from finops_assets.resources.http_sinks import SinkDeliveryError, SlackWebhookSink
from finops_assets.sample.aws_cur_writer import write_day
from finops_assets.sample.generate import generate_estate
from finops_assets.security.hardening import UnsafeUrlError
from finops_assets.settings import Settings
from finops_assets_tests.actuate.tls_servers import RecordingServer, write_self_signed_cert
from finops_assets_tests.servers.s3 import running_s3

START, END = dt.date(2026, 10, 1), dt.date(2026, 10, 2)
AWS_KEY_ID = "AKIAZQ7SECRETKEYID42"
AWS_SECRET = "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"
SLACK_PATH = "/services/T0S3CR3T/B0S3CR3T/hK3yS3cr3tW3bh00kV4lu3"
ROUTING_KEY = "R0UT1NGK3YS3CR3TV4LU3PD42"
BUDGETS = """
budgets:
  - id: bu-web-tiny
    scope: {kind: business_unit, value: marketing-web}
    amount: "1"
    currency: USD
    thresholds: [50, 100]
    basis: actual
    enforcement: soft
"""


@pytest.fixture
def receivers(tmp_path: Path) -> Iterator[tuple[RecordingServer, RecordingServer, Path]]:
    cert, key = write_self_signed_cert(tmp_path / "tls")
    slack, pagerduty = RecordingServer(cert, key).start(), RecordingServer(cert, key).start()
    slack.statuses = [500]  # one failed delivery: its error is recorded, and must be clean too
    slack.echo = pagerduty.echo = True  # an error answer repeats the request, secrets included
    pagerduty.statuses = [502]
    yield slack, pagerduty, cert
    slack.stop()
    pagerduty.stop()


def _upload_cur(generated: Path, bucket: str) -> None:
    """Each day's CUR files in the bucket's per-day folders (the S3 source's day layout)."""
    client = boto3.client("s3")
    for day in (START, END):
        for path in write_day(generated, day, seed=5, rows_per_day=200):
            key = f"cur/aws_cur/{day}/{path.name}"
            client.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())


def _production_like_defs(tmp_path: Path, pagerduty_url: str, ca: Path) -> dg.Definitions:
    """The shipped graph with the sinks wired as README says: secrets through EnvVar."""
    (tmp_path / "budgets.yaml").write_text(BUDGETS)
    sinks = EventSinksResource(
        slack_webhook_url=dg.EnvVar("FINOPS_SLACK_WEBHOOK_URL"),
        pagerduty_routing_key=dg.EnvVar("FINOPS_PAGERDUTY_ROUTING_KEY"),
        pagerduty_url=pagerduty_url,
        url_allowlist=["127.0.0.1"],
        ca_bundle=str(ca),
        backoff_seconds=0.01,
    )
    resources = {
        **defs.resources,
        "sinks": sinks,
        "budgets": BudgetsResource(path=str(tmp_path / "budgets.yaml")),
    }
    return dg.Definitions(assets=defs.assets, asset_checks=defs.asset_checks, resources=resources)


def _delta_tables(lake: Path) -> list[Path]:
    return sorted(p.parent for p in lake.rglob("_delta_log"))


def _findings(secrets: list[str], where: str, text: str) -> list[str]:
    return [f"{where}: {s[:6]}..." for s in secrets if s in text]


@pytest.mark.slow
def test_no_secret_value_is_written_anywhere(tmp_path, monkeypatch, receivers, capfd):
    slack, pagerduty, ca = receivers
    home = tmp_path / "home"
    monkeypatch.setenv("FINOPS_HOME", str(home))
    settings = Settings.from_env()
    generate_estate(settings.landing_dir, START, 2, rows_per_day=200)
    with running_s3() as s3:
        for key, value in s3.env().items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", AWS_KEY_ID)  # moto accepts any key pair
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS_SECRET)
        bucket = s3.new_bucket()
        _upload_cur(tmp_path / "generated", bucket)
        monkeypatch.setenv("FINOPS_SOURCE_AWS_CUR", f"s3://{bucket}/cur")
        monkeypatch.setenv("FINOPS_SLACK_WEBHOOK_URL", slack.url + SLACK_PATH)
        monkeypatch.setenv("FINOPS_PAGERDUTY_ROUTING_KEY", ROUTING_KEY)
        job = _production_like_defs(
            tmp_path, pagerduty.url + "/v2/enqueue", ca
        ).resolve_implicit_global_asset_job_def()
        (home / "dagster").mkdir(parents=True)
        with dg.instance_for_test(temp_dir=str(home / "dagster")) as instance:
            result = job.execute_in_process(
                instance=instance,
                tags={
                    "dagster/asset_partition_range_start": START.isoformat(),
                    "dagster/asset_partition_range_end": END.isoformat(),
                },
                raise_on_error=False,
            )
            runs = instance.get_runs()
            records = [r for run in runs for r in instance.all_logs(run.run_id)]
    assert result.success
    # The secrets were really used: the receivers got the webhook path and the routing key.
    assert slack.rejected and slack.received and all(r.path == SLACK_PATH for r in slack.received)
    assert pagerduty.received and pagerduty.received[0].json()["routing_key"] == ROUTING_KEY
    aws_rows = pl.read_delta(str(Path(settings.lake_uri) / "aws_cur_raw"))
    assert aws_rows["x_source_file"].str.starts_with("aws_cur/").all() and aws_rows.height > 0

    secrets = [AWS_KEY_ID, AWS_SECRET, SLACK_PATH, slack.url + SLACK_PATH, ROUTING_KEY]
    found: list[str] = []
    for record in records:  # event log: messages, materialization metadata, step failures
        found += _findings(secrets, f"event {record.dagster_event_type}", serialize_value(record))
    for run in runs:  # run config and tags
        found += _findings(secrets, f"run {run.run_id}", serialize_value(run))
    for table in _delta_tables(Path(settings.lake_uri)):  # every column of every table
        found += _findings(secrets, f"table {table.name}", pl.read_delta(str(table)).write_ndjson())
    for path in sorted(p for p in home.rglob("*") if p.is_file()):  # outbox, logs, archive, DBs
        found += _findings(
            secrets, str(path.relative_to(home)), path.read_bytes().decode("latin-1")
        )
    captured = capfd.readouterr()
    found += _findings(secrets, "stdout/stderr", captured.out + captured.err)
    assert len(_delta_tables(Path(settings.lake_uri))) >= 10 and records
    assert found == []


def test_a_sink_error_never_repeats_the_webhook_path(tmp_path):
    cert, key = write_self_signed_cert(tmp_path / "tls")
    closed = RecordingServer(cert, key).start()
    url = closed.url + SLACK_PATH
    closed.stop()  # nothing listens there any more: requests' error names the whole URL
    sink = SlackWebhookSink("slack", url, ["127.0.0.1"], str(cert), 5.0)
    event = b'{"id": "e1", "type": "t", "data": {}}'
    with pytest.raises(SinkDeliveryError, match="ConnectionError") as error:
        sink.deliver(event, "e1")
    assert SLACK_PATH not in str(error.value) and "(no HTTP answer)" in str(error.value)
    with pytest.raises(UnsafeUrlError, match="is not https") as unsafe:
        SlackWebhookSink("slack", url.replace("https", "http"), ["127.0.0.1"])
    assert SLACK_PATH not in str(unsafe.value)
