"""A late or corrected FX rate makes exactly the normalized days that used it stale (real instance)."""

import datetime as dt
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.asset_graph_view.asset_graph_view import AssetGraphView, TemporalContext
from dagster._core.definitions.data_version import CachingStaleStatusResolver, StaleStatus
from dagster._time import get_current_datetime

from finops_assets.conformance.check import NORMALIZE_SELECTION
from finops_assets.definitions import defs
from finops_assets.demo import materialize_window
from finops_assets.domain.reference import ECB_RATES_FILE, reference_text
from finops_assets.normalize.assets import fx_rates
from finops_assets.resources.lake import LakeResource
from finops_assets.resources.reference import FxRatesResource
from finops_assets.sample.generate import generate_estate
from finops_assets.settings import Settings

pytestmark = pytest.mark.slow

START = dt.date(2026, 10, 1)  # a Thursday: 10-01 and 10-02 have ECB rates, 10-03 uses Friday's
DAYS = ["2026-10-01", "2026-10-02", "2026-10-03"]
NORMALIZED = dg.AssetKey("normalized_costs")
RANGE = {
    "dagster/asset_partition_range_start": DAYS[0],
    "dagster/asset_partition_range_end": DAYS[-1],
}


def _stale_days(instance: dg.DagsterInstance) -> list[str]:
    graph = defs.get_repository_def().asset_graph
    view = AssetGraphView(
        temporal_context=TemporalContext(effective_dt=get_current_datetime(), last_event_id=None),
        instance=instance,
        asset_graph=graph,
    )
    resolver = CachingStaleStatusResolver(instance, graph, view)
    return [d for d in DAYS if resolver.get_status(NORMALIZED, d) == StaleStatus.STALE]


def _rates_with(path: Path, day: str, currency: str, value: str) -> Path:
    """A copy of the shipped ECB history with one day's rate for one currency replaced."""
    lines = reference_text(ECB_RATES_FILE).splitlines()
    header = [c.strip() for c in lines[0].split(",")]
    column = header.index(currency)
    out = []
    for line in lines:
        cells = line.split(",")
        if cells[0] == day:
            cells[column] = value
        out.append(",".join(cells))
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


def _rematerialize_fx_rates(instance: dg.DagsterInstance, csv_path: str) -> None:
    result = dg.materialize(
        [fx_rates],
        instance=instance,
        resources={"lake": LakeResource(), "rates": FxRatesResource(csv_path=csv_path)},
        tags=RANGE,
    )
    assert result.success


@pytest.fixture(scope="module")
def instance(tmp_path_factory):
    """Three days materialized through normalized_costs in one ranged run."""
    home = tmp_path_factory.mktemp("fx-stale")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FINOPS_HOME", str(home))
        generate_estate(Settings.from_env().landing_dir, START, 3, rows_per_day=60)
        (home / "dagster").mkdir()
        with dg.instance_for_test(temp_dir=str(home / "dagster")) as instance:
            end = START + dt.timedelta(days=2)
            assert materialize_window(instance, START, end, NORMALIZE_SELECTION).success
            yield instance, home


def test_fresh_after_the_run_and_after_a_rerun_with_the_same_rates(instance):
    inst, home = instance
    assert _stale_days(inst) == []
    same = _rates_with(home / "same.csv", "2026-09-30", "USD", "1.1000")  # outside the window
    _rematerialize_fx_rates(inst, str(same))
    assert _stale_days(inst) == []


def test_a_changed_rate_makes_exactly_the_days_that_use_it_stale(instance):
    inst, home = instance
    _rematerialize_fx_rates(inst, str(_rates_with(home / "late.csv", "2026-10-01", "JPY", "170")))
    assert _stale_days(inst) == ["2026-10-01"]
    # Friday's rate is also Saturday's (last published within the lookback): both go stale.
    # This file has the shipped JPY rate of 10-01 again, the one 10-01 was normalized with, so
    # 10-01 is no longer stale: staleness compares data versions, not materialization times.
    _rematerialize_fx_rates(inst, str(_rates_with(home / "fri.csv", "2026-10-02", "USD", "1.2")))
    assert _stale_days(inst) == ["2026-10-02", "2026-10-03"]
