"""cost_anomalies on a real Dagster instance and Delta lake: rows, and CloudEvents via the outbox."""

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from finops_assets.actuate.anomalies import cost_anomalies
from finops_assets.domain.allocate import ALLOCATED_COLUMNS
from finops_assets.resources.events import EventSinksResource
from finops_assets.resources.lake import LakeResource
from finops_assets.storage import tables
from finops_assets_tests.actuate.tls_servers import RecordingServer

pytestmark = pytest.mark.slow

DAY = dt.date(2026, 10, 29)


def write_day(lake: LakeResource, day: dt.date, billed_jpy: str, fx: str) -> None:
    """One marketing-web VM row billed in JPY, with its USD value at rate `fx`."""
    values = {
        "x_charge_date": day,
        "x_provider": "azure",
        "x_business_unit": "marketing-web",
        "ServiceName": "Virtual Machines",
        "BillingCurrency": "JPY",
        "BilledCost": Decimal(billed_jpy),
        "x_base_currency": "USD",
        "x_billed_cost_base": Decimal(billed_jpy) * Decimal(fx),
        "x_effective_cost_base": Decimal(billed_jpy) * Decimal(fx),
    }
    row = {name: values.get(name) for name in ALLOCATED_COLUMNS}
    lake.delta().write_day(
        tables.ALLOCATED_COSTS, pl.DataFrame([row], schema=ALLOCATED_COLUMNS), day
    )


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[dg.DagsterInstance]:
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        yield instance


def test_anomalies_are_stored_and_sent_once_fx_moves_are_not(
    tmp_path: Path, tls_cert, recording_server: RecordingServer, instance, monkeypatch
) -> None:
    monkeypatch.setenv("FINOPS_HOME", str(tmp_path))
    lake = LakeResource(lake_uri=str(tmp_path / "lake"), base_currency="USD")
    for n in range(29):
        day = dt.date(2026, 10, 1) + dt.timedelta(days=n)
        # The yen doubles on the 28th (an FX move); on the 29th the bill itself triples.
        write_day(lake, day, "30000" if day == DAY else "10000", "0.0134" if n >= 27 else "0.0067")
    sinks = EventSinksResource(
        events_dir=str(tmp_path / "events"),
        url_allowlist=["127.0.0.1"],
        ca_bundle=str(tls_cert[0]),
        slack_webhook_url=recording_server.url + "/services/x",
    )
    for _ in range(2):  # a re-run sends nothing again
        result = dg.materialize(
            [cost_anomalies],
            instance=instance,
            resources={"lake": lake, "sinks": sinks},
            tags={
                "dagster/asset_partition_range_start": "2026-10-28",
                "dagster/asset_partition_range_end": DAY.isoformat(),
            },
        )
        assert result.success
    stored = lake.delta().read_all(tables.COST_ANOMALIES)
    assert stored.select("x_charge_date", "BillingCurrency", "direction").rows() == [
        (DAY, "JPY", "spike")
    ]
    [message] = [r.json() for r in recording_server.received]
    assert (
        message["text"]
        == "com.finops.cost.anomaly.detected: business_unit/marketing-web/service/Virtual Machines"
    )
    logged = [
        json.loads(line)
        for line in (tmp_path / "events" / "budget_events.jsonl").read_text().splitlines()
    ]
    assert [e["id"] for e in logged] == stored["event_id"].to_list()
