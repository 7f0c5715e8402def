"""A restated period re-runs every day of it, but computes only the days whose inputs changed.

On a real instance: a FOCUS delivery of 1 to 7 October goes through the graph; the provider
restates it with only 4 October changed, and the whole period runs again (what the landing sensor
launches). normalized_costs, allocated_costs and cost_by_business_unit compute that one day
(counted by wrapping their domain functions) and record the 6 others again with their data
versions (`recomputed: false`); money is conserved on every day and nothing is left stale. A
new rule version recomputes every allocated day, a corrected FX rate recomputes the day it
applies to (their data versions are inputs too), a changed setting recomputes every day, each
allocated row still naming its normalized row, and so does a new release of the code.
"""

import datetime as dt
from collections import Counter
from decimal import Decimal
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from finops_assets import day_memo
from finops_assets.dagster_private import StaleStatus, stale_status_resolver
from finops_assets.day_memo import RECOMPUTED_KEY
from finops_assets.demo import materialize_window
from finops_assets.domain.reference import ECB_RATES_FILE, reference_text
from finops_assets.storage import tables
from finops_assets.storage.contract import TableContract
from finops_assets.storage.delta import DeltaLake
from finops_assets_tests.allocate.rules_change import definitions_with_rules, write_bumped_rules
from finops_assets_tests.test_period_restatement import (
    DELIVERY,
    FIRST,
    GRAPH,
    LAST,
    PERIOD,
    RESTATED,
    _period_file,
    _versions,
)

MEMOIZED = ["normalized_costs", "allocated_costs", "cost_by_business_unit"]
FX_DAY = dt.date(2026, 10, 6)  # a Tuesday: its USD rate is used on that day only


def _recomputed(instance: dg.DagsterInstance, key: str) -> list[str]:
    """The days of the period whose latest materialization of `key` was computed (not reused)."""
    days = []
    for day in PERIOD:
        [record] = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey(key), asset_partitions=[day.isoformat()]),
            limit=1,
        ).records
        flag = record.asset_materialization.metadata[RECOMPUTED_KEY]
        if flag.value:
            days.append(day.isoformat())
    return days


class _Calls:
    """Days the wrapped domain functions were called for, per function."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.days: Counter[tuple[str, str]] = Counter()
        import finops_assets.allocate.assets as allocate_assets
        import finops_assets.normalize.assets as normalize_assets
        import finops_assets.store.assets as store_assets

        # normalized_costs computes a day through the streamed path (it falls back to the
        # whole-day normalize_day only after it), so that call is the day's computation
        for module, attribute, name in (
            (normalize_assets, "normalize_day_streamed", "normalize_day"),
            (allocate_assets, "allocate_day", "allocate_day"),
            (store_assets, "summarize", "summarize"),
        ):
            monkeypatch.setattr(module, attribute, self._wrap(name, getattr(module, attribute)))

    def _wrap(self, name, function):  # type: ignore[no-untyped-def]
        def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
            day = next((a for a in args if isinstance(a, dt.date)), None)
            if day is None:  # summarize(allocated): the day of its rows
                days = args[0]["x_charge_date"].unique().to_list()
                day = days[0] if len(days) == 1 else None
            self.days[(name, day.isoformat() if day else "?")] += 1
            return function(*args, **kwargs)

        return counted

    def take(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for (name, day), count in sorted(self.days.items()):
            out.setdefault(name, []).extend([day] * count)
        self.days.clear()
        return out


def _money(lake: DeltaLake, contract: TableContract) -> dict[tuple[str, str], Decimal]:
    frame = lake.read_days(contract, PERIOD)
    totals = frame.group_by("x_charge_date", "BillingCurrency").agg(pl.col("BilledCost").sum())
    return {
        (str(row["x_charge_date"]), row["BillingCurrency"]): Decimal(str(row["BilledCost"]))
        for row in totals.iter_rows(named=True)
    }


def _not_fresh(instance: dg.DagsterInstance, keys: list[str]) -> dict[str, list[str]]:
    from finops_assets.definitions import defs

    resolver = stale_status_resolver(instance, defs.resolve_asset_graph())
    return {
        key: [
            d.isoformat()
            for d in PERIOD
            if resolver.get_status(dg.AssetKey(key), d.isoformat()) != StaleStatus.FRESH
        ]
        for key in keys
    }


def _corrected_rates(path: Path) -> Path:
    """The shipped ECB history with one corrected USD rate (FX_DAY: 1.1269 -> 1.1300)."""
    lines = reference_text(ECB_RATES_FILE).splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.startswith(f"{FX_DAY},"))
    date, usd, rest = lines[index].split(",", 2)
    assert usd == "1.1269", usd
    lines[index] = f"{date},1.1300,{rest}"
    path.write_text("".join(lines), encoding="utf-8")
    return path


def _run_with_rules(instance: dg.DagsterInstance, rules: Path, selection: list[str]) -> bool:
    job = definitions_with_rules(rules).resolve_implicit_global_asset_job_def()
    job = job.get_subset(asset_selection={dg.AssetKey(k) for k in selection})
    tags = {}
    if selection != ["allocation_rules"]:
        tags = {
            "dagster/asset_partition_range_start": FIRST.isoformat(),
            "dagster/asset_partition_range_end": LAST.isoformat(),
        }
    return job.execute_in_process(instance=instance, tags=tags, raise_on_error=False).success


@pytest.mark.slow
def test_a_restated_period_computes_only_the_days_whose_inputs_changed(
    tmp_path, monkeypatch
):  # fmt: skip
    monkeypatch.setenv("FINOPS_HOME", str(tmp_path))
    from finops_assets.settings import Settings

    settings = Settings.from_env()
    (tmp_path / "dagster").mkdir()
    delivery = settings.landing_dir / DELIVERY / "focus-oci-2026-10.csv"
    delivery.parent.mkdir(parents=True)
    delivery.write_bytes(_period_file(tmp_path / "scratch-1", lambda day: 7))
    restated = _period_file(tmp_path / "scratch-2", lambda day: 8 if day == RESTATED else 7)
    calls = _Calls(monkeypatch)
    lake = DeltaLake(settings.lake_uri)
    every_day = [d.isoformat() for d in PERIOD]
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        assert materialize_window(instance, FIRST, LAST, GRAPH).success
        first = calls.take()
        assert first["normalize_day"] == every_day and first["allocate_day"] == every_day
        before = {key: _versions(instance, key) for key in MEMOIZED}
        money_before = _money(lake, tables.NORMALIZED_COSTS)

        # the provider's new delivery of the whole period; the whole period runs again
        delivery.write_bytes(restated)
        assert materialize_window(instance, FIRST, LAST, GRAPH).success
        restatement = calls.take()
        after = {key: _versions(instance, key) for key in MEMOIZED}
        recomputed = {key: _recomputed(instance, key) for key in MEMOIZED}
        not_fresh = _not_fresh(instance, MEMOIZED)
        normalized = _money(lake, tables.NORMALIZED_COSTS)
        allocated = _money(lake, tables.ALLOCATED_COSTS)

        # a new rule version: every allocated day is computed again
        rules = write_bumped_rules(tmp_path / "allocation_rules.yaml")
        assert _run_with_rules(instance, rules, ["allocation_rules"])
        assert _run_with_rules(
            instance, rules, ["applicable_rules", "allocated_costs", "cost_by_business_unit"]
        )
        rule_change = calls.take()
        rule_versions = _versions(instance, "allocated_costs")

        # a corrected FX rate: the day it applies to is normalized and allocated again
        rates = {"rates": {"config": {"base_url": "off", "csv_path": str(
            _corrected_rates(tmp_path / "ecb.csv")
        )}}}  # fmt: skip
        fx_before = _versions(instance, "fx_rates")
        selection = "fx_rates,normalized_costs"
        assert materialize_window(instance, FIRST, LAST, selection, resources=rates).success
        fx_changed = [d for d, v in _versions(instance, "fx_rates").items() if v != fx_before[d]]
        fx_change = calls.take()

        # a changed setting computes every normalized day again: the same rows (same data
        # versions), but read from the restated raw rows, so with their new lineage; the
        # allocated days follow on their lineage version, every allocated row naming a
        # normalized row
        with monkeypatch.context() as patch:  # allocation's own inputs stay as they were
            patch.setenv("FINOPS_QUARANTINE_MAX_SHARE", "0.02")
            assert materialize_window(instance, FIRST, LAST, "normalized_costs").success
        assert materialize_window(instance, FIRST, LAST, "allocated_costs").success
        setting_change = calls.take()

        # a new release of the code: every day of a memoized asset is computed again (first
        # without: the allocated days computed again hold the same rows and lineage, but in
        # new files, so the days below them are computed once more; see the assertion below)
        assert materialize_window(instance, FIRST, LAST, "cost_by_business_unit").success
        lineage_change = calls.take()
        with monkeypatch.context() as patch:
            patch.setattr(day_memo, "_package_hash", lambda: "another release")
            assert materialize_window(instance, FIRST, LAST, "cost_by_business_unit").success
        code_change = calls.take()
        frames = {
            name: lake.read_days(contract, PERIOD)
            for name, contract in (
                ("normalized", tables.NORMALIZED_COSTS),
                ("allocated", tables.ALLOCATED_COSTS),
            )
        }

    day = RESTATED.isoformat()
    assert restatement == {"normalize_day": [day], "allocate_day": [day], "summarize": [day]}
    assert recomputed == {key: [day] for key in MEMOIZED}
    for key in MEMOIZED:  # the other days keep their data versions
        changed = [d for d in before[key] if before[key][d] != after[key][d]]
        assert changed == [day], (key, changed)
    assert not_fresh == {key: [] for key in MEMOIZED}
    assert normalized == allocated  # conserved on every day, the reused ones included
    assert {k: v for k, v in normalized.items() if k[0] != day} == {
        k: v for k, v in money_before.items() if k[0] != day
    }
    assert normalized != money_before  # the restated day's money did change
    assert rule_change["allocate_day"] == every_day
    assert rule_change["summarize"] == every_day
    assert all(rule_versions[d] != after["allocated_costs"][d] for d in every_day)
    assert fx_changed == [FX_DAY.isoformat()]
    assert fx_change == {"normalize_day": [FX_DAY.isoformat()]}
    assert setting_change["normalize_day"] == every_day
    # the allocated days follow their normalized days' new lineage; the restated day's
    # normalized rows were computed from the restated raw rows already, but normalized_costs
    # wrote that day
    # again (new files, same rows): allocated_costs' memo names the files of the day it reads,
    # so the day is computed again too (a rewrite outside Dagster looks the same; see
    # allocate/test_audit_ledger.py)
    assert setting_change["allocate_day"] == every_day
    # the allocated days were written again (same rows, new files): cost_by_business_unit's
    # memo names the files of the allocated day it reads, so it computes each day once more
    assert lineage_change == {"summarize": every_day}
    assert code_change == {"summarize": every_day}
    orphans = set(frames["allocated"]["x_source_row_key"]) - set(
        frames["normalized"]["x_source_row_key"]
    )
    assert not orphans, sorted(orphans)[:5]
