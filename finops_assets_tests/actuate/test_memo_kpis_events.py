"""finops_kpis and budget_events reuse a day whose inputs did not change, on a real instance.

The upstream days are written to a real Delta lake by hand and recorded as materializations
with data versions (what allocated_costs and rightsizing_recommendations record, an empty
rightsizing day included, as the graph records every day); budget_status,
budget_events and finops_kpis run for three October days, as in a restatement:

- a changed allocated day computes budget_status, budget_events and finops_kpis again from that
  day on (month to date), and reuses the days before it;
- nothing changed: every day is reused, and the KPI day's pipeline latency (metadata, not rows)
  is measured again: a reused allocated day recorded later gives a later latency;
- a new rightsizing recommendation (in the month before) computes every KPI day whose savings
  window holds it;
- a forced recompute gives the same data versions and rows as the memo;
- budget_events reads its own earlier days: a changed earlier day computes the later ones.
"""

import datetime as dt
import time
from decimal import Decimal
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from finops_assets.actuate.assets import budget_events, budget_status
from finops_assets.actuate.kpi_assets import finops_kpis
from finops_assets.dagster_private import DATA_VERSION_TAG
from finops_assets.day_memo import RECOMPUTE_TAG, RECOMPUTED_KEY
from finops_assets.domain.allocate import ALLOCATED_COLUMNS
from finops_assets.domain.sources import focus_export
from finops_assets.resources.budgets import BudgetsResource
from finops_assets.resources.cost_forecast import CostForecastResource
from finops_assets.resources.events import EventSinksResource
from finops_assets.resources.lake import LakeResource
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake
from finops_assets_tests.materializations import latest_materialization

DAYS = [dt.date(2026, 10, 13), dt.date(2026, 10, 14), dt.date(2026, 10, 15)]
SEPTEMBER_30 = dt.date(2026, 9, 30)
KEYS = ["budget_status", "budget_events", "finops_kpis"]
BUDGETS = """
budgets:
  - id: bu-web
    scope: {kind: business_unit, value: marketing-web}
    amount: "1000"
    currency: USD
    thresholds: [50, 100]
    basis: actual
    enforcement: soft
"""


def _report(instance: dg.DagsterInstance, key: str, day: dt.date, version: str) -> None:
    """Record a materialization of `key`'s day with a data version (as DayWriter does)."""
    event = dg.AssetMaterialization(
        key, partition=day.isoformat(), tags={DATA_VERSION_TAG: version}
    )
    instance.report_runless_asset_event(event)


def _allocated(lake: DeltaLake, instance: dg.DagsterInstance, day: dt.date, cost: str) -> None:
    """One allocated marketing-web row on `day`, recorded with a version naming its cost."""
    values = {
        "x_charge_date": day,
        "x_provider": "aws",
        "x_business_unit": "marketing-web",
        "ResourceId": "i-web",
        "x_base_currency": "USD",
        "x_effective_cost_base": Decimal(cost),
        "x_allocation_method": "tag",
    }
    row = {name: values.get(name) for name in ALLOCATED_COLUMNS}
    lake.write_day(tables.ALLOCATED_COSTS, pl.DataFrame([row], schema=ALLOCATED_COLUMNS), day)
    _report(instance, "allocated_costs", day, f"allocated-{day}-{cost}")


def _fetched(lake: DeltaLake, day: dt.date, at: dt.datetime) -> None:
    """A raw FOCUS row of `day` fetched at `at` (the latency's start)."""
    contract = tables.raw_contract(focus_export)
    row = {name: None for name in contract.columns} | {"x_charge_date": day, "x_fetched_at": at}
    lake.write_day(contract, pl.DataFrame([row], schema=contract.columns), day)


def _recommended(lake: DeltaLake, instance: dg.DagsterInstance, day: dt.date) -> None:
    """A rightsizing recommendation for i-web on `day`, recorded."""
    values = {
        "x_charge_date": day,
        "resource_id": "i-web",
        "estimated_monthly_savings": Decimal("30"),
    }
    schema = tables.RIGHTSIZING_RECOMMENDATIONS.columns
    row = {name: values.get(name) for name in schema}
    frame = pl.DataFrame([row], schema=schema)
    lake.write_day(tables.RIGHTSIZING_RECOMMENDATIONS, frame, day)
    _report(instance, "rightsizing_recommendations", day, f"rightsizing-{day}")


def _run(instance, tmp_path: Path, first: dt.date, last: dt.date, **tags: str) -> None:
    budgets = tmp_path / "budgets.yaml"
    budgets.write_text(BUDGETS)
    result = dg.materialize(
        [budget_status, budget_events, finops_kpis],
        instance=instance,
        resources={
            "lake": LakeResource(lake_uri=str(tmp_path / "lake"), base_currency="USD"),
            "budgets": BudgetsResource(path=str(budgets)),
            "cost_forecast": CostForecastResource(),
            "sinks": EventSinksResource(events_dir=str(tmp_path / "events")),
        },
        tags={
            "dagster/asset_partition_range_start": first.isoformat(),
            "dagster/asset_partition_range_end": last.isoformat(),
            **tags,
        },
    )
    assert result.success


def _computed(instance: dg.DagsterInstance) -> dict[str, list[int]]:
    """Per asset, the days (of October) whose latest materialization was computed."""
    found: dict[str, list[int]] = {}
    for key in KEYS:
        flags = [
            (d, latest_materialization(instance, key, d).metadata.get(RECOMPUTED_KEY)) for d in DAYS
        ]
        found[key] = [d.day for d, flag in flags if flag is None or flag.value]
    return found


def _state(instance: dg.DagsterInstance, lake: DeltaLake) -> tuple[dict, dict]:
    """Every day's data version per asset, and the stored rows of the tables they write."""
    versions = {
        k: [(latest_materialization(instance, k, d).tags or {}).get(DATA_VERSION_TAG) for d in DAYS]
        for k in KEYS
    }
    rows = {}
    written = (
        tables.BUDGET_STATUS,
        tables.BUDGET_EVENTS,
        tables.FINOPS_KPIS,
        tables.FINOPS_KPI_VALUES,
    )
    for contract in written:
        frame = lake.read_days(contract, DAYS)
        rows[contract.name] = sorted(frame.iter_rows(), key=repr)
    return versions, rows


def _latency_s(instance: dg.DagsterInstance, day: dt.date) -> int:
    return (
        latest_materialization(instance, "finops_kpis", day)
        .metadata["pipeline_latency_max_s"]
        .value
    )


@pytest.mark.slow
def test_kpis_and_budget_events_reuse_an_unchanged_day(tmp_path, monkeypatch):
    monkeypatch.setenv("FINOPS_HOME", str(tmp_path))
    lake = DeltaLake(str(tmp_path / "lake"))
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        for day, cost in zip(DAYS, ("300", "250", "100"), strict=True):
            _allocated(lake, instance, day, cost)
            _report(instance, "rightsizing_recommendations", day, "no recommendation")
        _fetched(lake, DAYS[0], dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
        _run(instance, tmp_path, DAYS[0], DAYS[-1])
        assert _computed(instance) == dict.fromkeys(KEYS, [13, 14, 15])
        latency = _latency_s(instance, DAYS[0])

        _allocated(lake, instance, DAYS[1], "260")  # 14 October restated
        _run(instance, tmp_path, DAYS[0], DAYS[-1])
        assert _computed(instance) == dict.fromkeys(KEYS, [14, 15])  # 13 reused

        time.sleep(2)  # allocated_costs reuses 13 October later: the same version, recorded anew
        _report(instance, "allocated_costs", DAYS[0], f"allocated-{DAYS[0]}-300")
        _run(instance, tmp_path, DAYS[0], DAYS[-1])
        assert _computed(instance) == dict.fromkeys(KEYS, [])
        assert _latency_s(instance, DAYS[0]) >= latency + 2  # measured again, not copied

        _recommended(lake, instance, SEPTEMBER_30)  # before the month: the savings window
        _run(instance, tmp_path, DAYS[0], DAYS[-1])
        assert _computed(instance) == {**dict.fromkeys(KEYS, []), "finops_kpis": [13, 14, 15]}
        memoized = _state(instance, lake)

        _run(instance, tmp_path, DAYS[0], DAYS[-1], **{RECOMPUTE_TAG: "true"})
        assert _computed(instance) == dict.fromkeys(KEYS, [13, 14, 15])
        assert _state(instance, lake) == memoized
        assert memoized[1]["budget_events"]  # 14 October crossed 50 %: rows to compare
        assert memoized[1]["finops_kpi_values"]  # the savings realized since 30 September

        _run(instance, tmp_path, DAYS[0], DAYS[-1])  # a forced day recorded no inputs
        assert _computed(instance) == dict.fromkeys(KEYS, [13, 14, 15])
        _report(instance, "budget_events", DAYS[0], "events-written-elsewhere")
        _run(instance, tmp_path, DAYS[1], DAYS[-1])  # 14 and 15 read 13 October's events
        assert _computed(instance)["budget_events"] == [13, 14, 15]  # 13: the reported one
        assert (
            latest_materialization(instance, "budget_events", DAYS[1]).metadata[RECOMPUTED_KEY]
        ).value
