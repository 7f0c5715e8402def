"""The checked day-writer on a real Dagster instance and real Delta tables.

A toy pair of day-partitioned assets (`toy_costs` and its downstream `toy_report`) writes
through DayWriter into a Delta table in a temp folder; the test materializes day ranges in one
run (a single-run backfill) and reads what the instance records per partition.
"""

import datetime as dt
from decimal import Decimal

import dagster as dg
import polars as pl
import pytest

from finops_assets.dagster_private import (
    DATA_VERSION_TAG,
    StaleStatus,
    latest_check_results,
    stale_status_resolver,
)
from finops_assets.day_writer import DayWriter
from finops_assets.domain.money import MONEY
from finops_assets.metadata import money_table
from finops_assets.storage.contract import TableContract
from finops_assets.storage.delta import DeltaLake

pytestmark = pytest.mark.slow

PARTS = dg.DailyPartitionsDefinition(start_date="2026-10-01", end_date="2026-10-10")
DAYS = ["2026-10-01", "2026-10-02", "2026-10-03"]
TOY = TableContract(
    "toy_costs", {"x_charge_date": pl.Date(), "BillingCurrency": pl.Utf8(), "BilledCost": MONEY}
)
STATE: dict = {}  # the test's knobs: lake, bad days, amounts, a day that raises


def _toy_frame(day: dt.date) -> pl.DataFrame:
    amount = STATE["amounts"].get(day.isoformat(), Decimal("10.005"))
    return pl.DataFrame(
        {
            "x_charge_date": [day, day],
            "BillingCurrency": ["USD", "EUR"],
            "BilledCost": [amount, Decimal(1)],
        },
        schema=TOY.schema,
    )


@dg.asset(
    partitions_def=PARTS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    check_specs=[
        dg.AssetCheckSpec(
            "check_toy_positive",
            asset="toy_costs",
            blocking=True,
            partitions_def=PARTS,
            description="every amount is positive",
        )
    ],
)
def toy_costs(context: dg.AssetExecutionContext):
    """A day-partitioned asset written through the day-writer."""
    writer, delta = DayWriter(context, logic_version="toy-1"), STATE["lake"]

    def one_day(day: dt.date) -> None:
        if day.isoformat() == STATE.get("raise_on"):
            raise RuntimeError(f"provider unreachable for {day}")
        frame = _toy_frame(day)
        bad = [{"day": str(day), "reason": "forced"}] if str(day) in STATE["bad"] else []
        writer.commit(
            day,
            {"check_toy_positive": bad},
            lambda: delta.write_day(TOY, frame, day),
            content=[frame],
            metadata={
                "rows": frame.height,
                "money": money_table(frame, ["BilledCost"], "BillingCurrency"),
            },
        )

    yield from writer.run(one_day)


@dg.asset(partitions_def=PARTS, backfill_policy=dg.BackfillPolicy.single_run(), deps=[toy_costs])
def toy_report() -> dg.MaterializeResult:
    """Downstream of toy_costs: runs only on days toy_costs delivered."""
    return dg.MaterializeResult()


RANGE = {
    "dagster/asset_partition_range_start": DAYS[0],
    "dagster/asset_partition_range_end": DAYS[-1],
}


@pytest.fixture
def lake(tmp_path):
    STATE.clear()
    STATE.update(lake=DeltaLake(str(tmp_path / "lake")), bad=set(), amounts={})
    yield STATE["lake"]
    STATE.clear()


def _run(instance, tags=RANGE, partition_key=None, assets=(toy_costs, toy_report)):
    return dg.materialize(
        list(assets),
        instance=instance,
        tags=tags,
        partition_key=partition_key,
        raise_on_error=False,
    )


def _statuses(instance, key: str) -> dict[str, str]:
    found = instance.get_status_by_partition(dg.AssetKey(key), DAYS, PARTS) or {}
    return {day: status.value for day, status in found.items() if status is not None}


def _latest(instance, key: str, day: str) -> dg.AssetMaterialization:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(key), asset_partitions=[day]), limit=1
    ).records
    materialization = records[0].asset_materialization
    assert materialization is not None
    return materialization


def test_a_day_failing_a_blocking_check_is_a_failed_partition(lake):
    STATE["bad"] = {"2026-10-02"}
    with dg.instance_for_test() as instance:
        result = _run(instance)
        assert not result.success
        assert instance.get_materialized_partitions(dg.AssetKey("toy_costs")) == {
            "2026-10-01",
            "2026-10-03",
        }
        assert _statuses(instance, "toy_costs") == {
            "2026-10-01": "MATERIALIZED",
            "2026-10-02": "FAILED",
            "2026-10-03": "MATERIALIZED",
        }
        assert not instance.get_materialized_partitions(dg.AssetKey("toy_report"))
        evaluations = [
            e.dagster_event.event_specific_data
            for e in instance.all_logs(result.run_id)
            if e.dagster_event and e.dagster_event.event_type_value == "ASSET_CHECK_EVALUATION"
        ]
        assert {(e.partition, e.passed) for e in evaluations} == {
            ("2026-10-01", True),
            ("2026-10-02", False),
            ("2026-10-03", True),
        }
        failure = result.get_step_failure_events()[0].step_failure_data.error
        assert "2026-10-02" in failure.message and "check_toy_positive" in failure.message
    written = lake.scan(TOY).select("x_charge_date").unique().collect()["x_charge_date"]
    assert sorted(str(d) for d in written) == ["2026-10-01", "2026-10-03"]

    STATE["bad"] = set()  # the retry of the failed day turns it green
    with dg.instance_for_test() as instance:
        assert _run(instance).success
        assert set(_statuses(instance, "toy_costs").values()) == {"MATERIALIZED"}


def test_each_days_check_result_is_the_one_the_ui_shows_for_that_day(lake):
    """A result names the materialization it judged; without it Dagster shows no day's result."""
    STATE["bad"] = {"2026-10-02"}
    check = dg.AssetCheckKey(dg.AssetKey("toy_costs"), "check_toy_positive")
    with dg.instance_for_test() as instance:
        assert not _run(instance).success  # ranged: days 1 and 3 written, day 2 failed
        ranged = latest_check_results(instance, check, DAYS)
        assert _run(instance, tags={}, partition_key=DAYS[0]).success  # one day again
        single = latest_check_results(instance, check, DAYS)
    assert ranged == {
        "2026-10-01": (True, True),
        "2026-10-02": (False, True),
        "2026-10-03": (True, True),
    }
    assert single == ranged


def test_a_day_that_raises_keeps_the_written_days_recorded(lake):
    STATE["raise_on"] = "2026-10-03"
    with dg.instance_for_test() as instance:
        result = _run(instance)
        assert not result.success
        assert _statuses(instance, "toy_costs") == {
            "2026-10-01": "MATERIALIZED",
            "2026-10-02": "MATERIALIZED",
            "2026-10-03": "FAILED",
        }
        message = result.get_step_failure_events()[0].step_failure_data.error.message
        assert "provider unreachable for 2026-10-03" in message


def test_each_day_of_a_ranged_run_has_its_own_metadata_in_minor_units(lake):
    STATE["amounts"] = {"2026-10-02": Decimal("0E-10")}
    with dg.instance_for_test() as instance:
        assert _run(instance).success
        second = _latest(instance, "toy_costs", "2026-10-02")
        first = _latest(instance, "toy_costs", "2026-10-01")
    assert second.metadata["rows"].value == 2
    money = second.metadata["money"].value
    assert "| USD | 0.00 USD |" in money and "0E-10" not in money
    assert "| USD | 10.01 USD |" in first.metadata["money"].value  # half-up to the cent
    assert first.tags[DATA_VERSION_TAG] != second.tags[DATA_VERSION_TAG]


def test_identical_content_gives_identical_versions_and_nothing_stale(lake):
    with dg.instance_for_test() as instance:
        assert _run(instance).success
        before = {d: _latest(instance, "toy_costs", d).tags[DATA_VERSION_TAG] for d in DAYS}
        assert _run(instance, assets=(toy_costs,)).success  # the same input again
        after = {d: _latest(instance, "toy_costs", d).tags[DATA_VERSION_TAG] for d in DAYS}
        assert after == before
        graph = dg.Definitions(assets=[toy_costs, toy_report]).resolve_asset_graph()
        resolver = stale_status_resolver(instance, graph)
        assert {resolver.get_status(dg.AssetKey("toy_report"), d) for d in DAYS} == {
            StaleStatus.FRESH
        }

        STATE["amounts"] = {"2026-10-02": Decimal("11")}  # a restated day, run on its own
        assert _run(instance, tags=None, partition_key="2026-10-02", assets=(toy_costs,)).success
        resolver = stale_status_resolver(instance, graph)
        stale = {d: resolver.get_status(dg.AssetKey("toy_report"), d) for d in DAYS}
    assert stale == {
        "2026-10-01": StaleStatus.FRESH,
        "2026-10-02": StaleStatus.STALE,
        "2026-10-03": StaleStatus.FRESH,
    }


def test_a_check_left_out_of_a_commit_is_refused(lake):
    @dg.asset(
        partitions_def=PARTS,
        check_specs=[dg.AssetCheckSpec("check_a", asset="forgetful", description="a")],
    )
    def forgetful(context: dg.AssetExecutionContext):
        writer = DayWriter(context)
        yield from writer.run(
            lambda day: writer.commit(day, {}, lambda: None, content="v", metadata={})
        )

    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [forgetful], instance=instance, partition_key=DAYS[0], raise_on_error=False
        )
        assert not result.success
        assert not instance.get_materialized_partitions(dg.AssetKey("forgetful"))
        message = result.get_step_failure_events()[0].step_failure_data.error.message
    assert "check_a" in message


@dg.asset(partitions_def=PARTS, backfill_policy=dg.BackfillPolicy.single_run(), deps=[toy_costs])
def toy_memo(context: dg.AssetExecutionContext):
    """Memoized downstream of toy_costs; the days in STATE["outside"] read an input that is not
    theirs (as allocated_costs under a month_locked FX policy reads another day's rate)."""
    writer = DayWriter(
        context, memo=True, memo_when=lambda day: day.isoformat() not in STATE["outside"]
    )

    def one_day(day: dt.date) -> None:
        STATE["computed"].append(day.isoformat())
        frame = _toy_frame(day)
        writer.commit(day, {}, lambda: None, content=[frame])

    yield from writer.run(one_day)


def test_a_memoized_day_that_reads_beyond_its_inputs_is_always_computed(lake):
    """Unchanged inputs: a memoized day is reused, except one memo_when leaves out."""
    STATE.update(outside={DAYS[1]}, computed=[])
    with dg.instance_for_test() as instance:
        assert _run(instance, assets=(toy_costs, toy_memo)).success
        assert STATE["computed"] == DAYS
        STATE["computed"] = []
        assert _run(instance, assets=(toy_costs, toy_memo)).success
        reused = _latest(instance, "toy_memo", DAYS[0]).metadata["recomputed"].value
    assert STATE["computed"] == [DAYS[1]]
    assert reused is False
