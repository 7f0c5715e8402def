"""A rule version that switches to a month-locked FX rate, through a real Dagster instance.

Three October 2026 days of the sample estate run through the graph with the shipped rules
(daily FX). Then a second version, the same rules with `fx: {policy: month_locked, rate_day:
first_business_day}`, is made effective from the second day: exactly the second and third
days of allocated_costs turn stale, and once re-allocated both carry the ECB rate of
2026-10-01 (the shipped history) on every row, while the first day keeps its own day's rate
and is not rewritten. Billed amounts are unchanged; base amounts are conserved exactly under
the locked rate, and the audit ledger's check passes.
"""

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

import dagster as dg
import polars as pl
import pytest

from finops_assets.allocate.sensors import stale_allocated_partitions
from finops_assets.allocate.versions import allocation_versions
from finops_assets.domain import fx
from finops_assets.domain.rules import SHIPPED_RULES_PATH
from finops_assets.sample.generate import generate_estate
from finops_assets.settings import Settings
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake
from finops_assets_tests.allocate.conftest import run_assets
from finops_assets_tests.allocate.rules_change import definitions_with_rules, history_text

# materializes the graph on a real instance (make test-fast leaves it out)
pytestmark = pytest.mark.slow
DAYS = [dt.date(2026, 10, 5), dt.date(2026, 10, 6), dt.date(2026, 10, 7)]
LOCKED_DAY = dt.date(2026, 10, 1)  # the first day of October 2026 with ECB rates
SHIPPED = SHIPPED_RULES_PATH.read_text(encoding="utf-8")
LOCKED_RULES = (
    SHIPPED.replace('version: "2026.11.1"', 'version: "2026.11.2-fx"')
    + "fx: {policy: month_locked, rate_day: first_business_day}\n"
)
HISTORY = history_text(
    (SHIPPED, {"effective_from": "2026-10-01"}),
    (LOCKED_RULES, {"effective_from": DAYS[1].isoformat()}),
)
SELECTION = dg.AssetSelection.assets("allocated_costs", "allocation_audit").upstream()


@dataclass
class Switched:
    """What was seen around switching the FX policy from the second day."""

    stale: list[str]
    backfill: dg.ExecuteInProcessResult
    first_day_before: int
    first_day_after: int
    lake: DeltaLake


def _keys(defs: dg.Definitions) -> list[str]:
    graph = defs.resolve_asset_graph()
    keys = SELECTION.resolve(graph)
    return sorted(k.to_user_string() for k in keys if k != dg.AssetKey("allocation_rules"))


@pytest.fixture(scope="module")
def switched(tmp_path_factory) -> Iterator[Switched]:
    root = tmp_path_factory.mktemp("fx_policy")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FINOPS_HOME", str(root / "finops"))
        settings = Settings.from_env()
        generate_estate(settings.landing_dir, DAYS[0], len(DAYS), rows_per_day=120)
        rules = root / "allocation_rules.yaml"
        rules.write_text(SHIPPED, encoding="utf-8")
        defs = definitions_with_rules(rules)
        (root / "dagster").mkdir()
        lake = DeltaLake(settings.lake_uri)
        with dg.instance_for_test(temp_dir=str(root / "dagster")) as instance:
            assert run_assets(defs, instance, ["allocation_rules"], []).success
            assert run_assets(defs, instance, _keys(defs), DAYS).success
            before = allocation_versions(lake, DAYS[0])["x_delta_version_after"][0]
            rules.write_text(HISTORY, encoding="utf-8")
            assert run_assets(defs, instance, ["allocation_rules"], []).success
            assert run_assets(defs, instance, ["applicable_rules"], DAYS).success
            graph = defs.get_repository_def().asset_graph
            stale = stale_allocated_partitions(instance, graph)
            days = [dt.date.fromisoformat(d) for d in stale]
            backfill = run_assets(defs, instance, ["allocated_costs", "allocation_audit"], days)
            after = allocation_versions(lake, DAYS[0])["x_delta_version_after"][0]
            yield Switched(stale, backfill, before, after, lake)


def _eur_to_usd_on(day: dt.date) -> Decimal:
    """The cross rate EUR -> USD (the lake's base currency) of `day` in the shipped ECB file."""
    ecb = fx.load_shipped_ecb_rates()
    usd = ecb.filter((pl.col("rate_date") == day) & (pl.col("currency") == "USD"))
    return Decimal(usd["units_per_eur"].item()).quantize(Decimal("1e-12"))


def test_only_the_days_from_effective_from_are_reallocated(switched: Switched):
    assert switched.stale == [d.isoformat() for d in DAYS[1:]]
    assert switched.backfill.success
    assert switched.first_day_after == switched.first_day_before  # day one not rewritten
    checks = {
        (e.check_name, str(e.partition)): e.passed
        for e in switched.backfill.get_asset_check_evaluations()
        if e.check_name in ("check_allocation_conserved", "check_audit_versions_conserved")
    }
    assert checks == {
        (name, d.isoformat()): True
        for name in ("check_allocation_conserved", "check_audit_versions_conserved")
        for d in DAYS[1:]
    }


def test_both_locked_days_use_the_same_rate_date_and_source(switched: Switched):
    rows = switched.lake.read_days(tables.ALLOCATED_COSTS, DAYS[1:])
    assert set(rows["x_charge_date"].to_list()) == set(DAYS[1:])
    assert set(rows["x_fx_rate_date"].to_list()) == {LOCKED_DAY}
    assert set(rows["x_fx_rate_source"].to_list()) == {
        "ECB eurofxref, month_locked first_business_day 2026-10"
    }
    assert set(rows["x_base_currency"].to_list()) == {"USD"}
    eur = rows.filter(pl.col("BillingCurrency") == "EUR")
    by_day = eur.group_by("x_charge_date").agg(pl.col("x_fx_rate").unique())
    assert by_day.height == 2
    assert [set(r) for r in by_day["x_fx_rate"].to_list()] == [{_eur_to_usd_on(LOCKED_DAY)}] * 2
    assert _eur_to_usd_on(LOCKED_DAY) == Decimal("1.1298")  # ECB 2026-10-01
    first = switched.lake.read_day(tables.ALLOCATED_COSTS, DAYS[0])
    assert set(first["x_fx_rate_date"].to_list()) == {DAYS[0]}  # the day's own rate
    assert set(first["x_fx_rate_source"].to_list()) == {"ECB eurofxref, daily (fx_rates)"}


def test_billed_amounts_stay_and_base_amounts_follow_the_locked_rate(switched: Switched):
    for day in DAYS[1:]:
        allocated = switched.lake.read_day(tables.ALLOCATED_COSTS, day)
        normalized = switched.lake.read_day(tables.NORMALIZED_COSTS, day)
        billed = allocated.group_by("BillingCurrency").agg(pl.col("BilledCost").sum()).sort("*")
        source = normalized.group_by("BillingCurrency").agg(pl.col("BilledCost").sum()).sort("*")
        assert billed.equals(source)
        rates = dict(zip(allocated["BillingCurrency"], allocated["x_fx_rate"], strict=False))
        with localcontext() as ctx:
            ctx.prec = 60
            expected = _converted_sum(normalized, rates)
        assert allocated["x_billed_cost_base"].sum() == expected
        assert normalized["x_billed_cost_base"].sum() != expected  # the day's rate differs


def _converted_sum(normalized: pl.DataFrame, rates: dict) -> Decimal:
    """Σ half-up(BilledCost × rate) to the cent, row by row in Python decimal."""
    return sum(
        (
            (row["BilledCost"] * rates[row["BillingCurrency"]]).quantize(
                Decimal("0.01"), rounding=ROUND_HALF_UP
            )
            for row in normalized.iter_rows(named=True)
        ),
        Decimal(0),
    )
