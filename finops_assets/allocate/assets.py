"""Allocate-stage assets: allocation_rules (versioned) and allocated_costs."""

import datetime as dt
from collections.abc import Iterator

import dagster as dg
import polars as pl
from dagster import AssetExecutionContext

from finops_assets.allocate.applicable import RULES_KEY, applicable_rules
from finops_assets.allocate.closed_periods import BookedDays
from finops_assets.allocate.day import AllocatedDayWriter, DayResult, allocate_day
from finops_assets.allocate.fx_policy import LockedRates
from finops_assets.allocate.rule_currency import FOLLOWERS, rule_currency_events
from finops_assets.allocate.rules_versions import record_rules, rules_in_force
from finops_assets.concurrency import writer_pool
from finops_assets.day_writer import DayEvent, DayWriter
from finops_assets.domain.allocate_conservation import coverage_shares
from finops_assets.domain.rule_history import load_rule_history, version_windows
from finops_assets.metadata import markdown_table
from finops_assets.partitions import SINGLE_RUN, daily_partitions
from finops_assets.resources.lake import LakeResource
from finops_assets.resources.reference import FxRatesResource
from finops_assets.resources.rules import RulesResource
from finops_assets.storage import tables


@dg.asset(
    key=RULES_KEY,
    group_name="allocate",
    kinds={"yaml", "delta"},
    pool=writer_pool("allocation_rules"),
)
def allocation_rules(
    context: AssetExecutionContext, lake: LakeResource, rules: RulesResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckEvaluation]:
    """The allocation rule history: every version with its effective window, validated.

    Stored in the lake (one row per version, never deleted) under the history's data version;
    applicable_rules reads it to pick each day's version. New rules fail check_rules_current
    on every day of allocated_costs and the reports after it whose applicable version they
    changed (rule_currency.py).
    """
    text = rules.file().read_text(encoding="utf-8")
    history = load_rule_history(text)
    table_version = record_rules(lake.delta(), text, history)
    windows = [
        {
            "version": v.rules.version,
            "applies_from": str(v.applies_from or "-"),
            "effective_to": str(v.effective_to or "-"),
            "restate_reason": v.reason or "-",
        }
        for v in history.versions
    ]
    yield dg.MaterializeResult(
        metadata={
            "rules_version": history.version,
            "content_hash": history.content_hash,
            "versions": markdown_table(windows),
            "windows": dg.MetadataValue.json(version_windows(history)),
            "source": rules.describe(),
            "delta_version": table_version,
        },
        data_version=dg.DataVersion(history.data_version),
    )
    # the materialization above is stored by now: the days it left behind are reported
    yield from rule_currency_events(context.instance, [dg.AssetKey(a) for a in FOLLOWERS])


# normalized_costs rewrites a day only when it computes it; a day of it rewritten outside
# Dagster (no new data version) is seen by its files. Raw tables are not named: a new delivery
# rewrites every day of its period with new lineage and the same data versions, which the memo
# must see as unchanged.
MEMO_READS = (tables.NORMALIZED_COSTS,)


@dg.asset(
    group_name="allocate",
    pool=writer_pool("allocated_costs"),
    partitions_def=daily_partitions,
    backfill_policy=SINGLE_RUN,
    kinds={"delta", "polars"},
    deps=["normalized_costs", "k8s_usage_raw", "allocation_drivers_raw", applicable_rules],
    check_specs=[
        dg.AssetCheckSpec(
            "check_allocated_contract",
            asset="allocated_costs",
            blocking=True,
            partitions_def=daily_partitions,
            description="Typed columns with a business unit, an allocation method and the rule "
            "version on every row.",
        ),
        dg.AssetCheckSpec(
            "check_allocation_conserved",
            asset="allocated_costs",
            blocking=True,
            partitions_def=daily_partitions,
            description="Per day, currency and charge category, allocated money equals "
            "normalized money exactly, in billing and base currency.",
        ),
    ],
)
def allocated_costs(
    context: AssetExecutionContext, lake: LakeResource, rates: FxRatesResource
) -> Iterator[DayEvent]:
    """Every normalized cost split onto business units by tag, hierarchy, then shared-cost rules.

    Each day is allocated with the rule version applicable_rules recorded for it (its
    effective window), read from the lake, and in the base currency under that version's FX
    policy (each day's rate, or its month's locked rate: domain/fx_policy.py).
    A day of a closed period keeps its booked rows and data version (closed_periods.py);
    what would move waits in pending_adjustments.
    """
    delta, base = lake.delta(), lake.currency()
    booked = BookedDays(delta, context.instance)
    # never memoized: a closed day (kept, it must not record today's inputs as its own, or it
    # would be reused after the reopen), and a day under a month_locked FX policy (it reads
    # its month's locked rate, another day's, from the rates resource: no input of the day)
    days = DayWriter(
        context,
        memo=True,
        memo_when=lambda day: not (booked.closed_day(day) or rules_in_force(delta, day).fx.locked),
        memo_stored=lambda day: delta.day_files(MEMO_READS, day),
        memo_output=lambda day: delta.day_files([tables.ALLOCATED_COSTS], day),
    )
    writer = AllocatedDayWriter(delta, context.run.run_id)
    locked = LockedRates(rates, days.days)

    def one_day(day: dt.date) -> None:
        if booked.closed_day(day):
            booked.keep(days, day, ["check_allocated_contract", "check_allocation_conserved"])
            return
        loaded = rules_in_force(delta, day)
        convert = locked.converter(loaded.fx, day, base)
        result = allocate_day(delta, day, loaded, writer, convert=convert)
        days.commit(
            day,
            {
                "check_allocated_contract": result.contract_failures,
                "check_allocation_conserved": result.conservation_failures,
            },
            lambda: None,  # handed to the writer (in the background) once the checks passed
            content=result.fingerprint or "",
            metadata={
                **_day_metadata(result, loaded.version, base),
                "fx_policy": loaded.fx.policy
                + (f" ({loaded.fx.rate_day})" if loaded.fx.locked else ""),
            },
        )

    def finish() -> dict[str, object]:
        writer.finish()
        return {}

    yield from days.run(one_day, after=finish)


def _day_metadata(result: DayResult, rules_version: str, base: str) -> dict[str, object]:
    """One allocated day for the UI: rows, rules, coverage per method in the base currency."""
    coverage: pl.DataFrame | list[dict] = (
        coverage_shares(pl.concat(result.coverage)) if result.coverage else []
    )
    return {
        "rows": result.allocated_rows,
        "source_rows": result.source_rows,
        "rules_version": rules_version,
        "coverage": markdown_table(coverage),
        "base_currency": base,
    }
