"""Allocate-stage assets: allocation_rules (versioned) and allocated_costs."""

import datetime as dt
from collections.abc import Iterator

import dagster as dg
import polars as pl
from dagster import AssetExecutionContext

from finops_assets.allocate.day import AllocatedDayWriter, DayResult, allocate_day
from finops_assets.allocate.rule_currency import FOLLOWERS, rule_currency_events
from finops_assets.allocate.rules_versions import record_rules, rules_in_force
from finops_assets.concurrency import writer_pool
from finops_assets.dagster_private import DATA_VERSION_TAG
from finops_assets.day_writer import DayEvent, DayWriter
from finops_assets.domain.allocate_conservation import coverage_shares
from finops_assets.domain.rules import load_rules
from finops_assets.metadata import markdown_table
from finops_assets.partitions import SINGLE_RUN, daily_partitions
from finops_assets.resources.lake import LakeResource
from finops_assets.resources.rules import RulesResource

RULES_KEY = dg.AssetKey("allocation_rules")


@dg.asset(group_name="allocate", kinds={"yaml", "delta"}, pool=writer_pool("allocation_rules"))
def allocation_rules(
    context: AssetExecutionContext, lake: LakeResource, rules: RulesResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckEvaluation]:
    """The allocation rules in force; their version plus content hash is the data version.

    The parsed, validated rule set is stored in the lake under that data version: it is the
    only copy allocated_costs reads. New rules fail check_rules_current on every day of
    allocated_costs and the reports after it that they left behind (rule_currency.py).
    """
    text = rules.file().read_text(encoding="utf-8")
    loaded = load_rules(text)
    table_version = record_rules(lake.delta(), text, loaded)
    yield dg.MaterializeResult(
        metadata={
            "rules_version": loaded.version,
            "content_hash": loaded.content_hash,
            "source": rules.describe(),
            "delta_version": table_version,
        },
        data_version=dg.DataVersion(loaded.data_version),
    )
    # the materialization above is stored by now: the days it left behind are reported
    yield from rule_currency_events(context.instance, [dg.AssetKey(a) for a in FOLLOWERS])


def materialized_rules_version(instance: dg.DagsterInstance) -> str | None:
    """The data version of the latest allocation_rules materialization (None: never)."""
    event = instance.get_latest_materialization_event(RULES_KEY)
    materialization = event.asset_materialization if event else None
    return (materialization.tags or {}).get(DATA_VERSION_TAG) if materialization else None


@dg.asset(
    group_name="allocate",
    pool=writer_pool("allocated_costs"),
    partitions_def=daily_partitions,
    backfill_policy=SINGLE_RUN,
    kinds={"delta", "polars"},
    deps=["normalized_costs", "k8s_usage_raw", allocation_rules],
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
def allocated_costs(context: AssetExecutionContext, lake: LakeResource) -> Iterator[DayEvent]:
    """Every normalized cost split onto business units by tag, hierarchy, then shared-cost rules.

    The rules are the version allocation_rules last materialized, read from the lake.
    """
    delta, base = lake.delta(), lake.currency()
    loaded = rules_in_force(delta, materialized_rules_version(context.instance))
    days = DayWriter(context, logic_version=loaded.data_version)
    writer = AllocatedDayWriter(delta, context.run.run_id, loaded.data_version)

    def one_day(day: dt.date) -> None:
        result = allocate_day(delta, day, loaded, writer)
        days.commit(
            day,
            {
                "check_allocated_contract": result.contract_failures,
                "check_allocation_conserved": result.conservation_failures,
            },
            lambda: None,  # handed to the writer (in the background) once the checks passed
            content=result.fingerprint or "",
            metadata=_day_metadata(result, loaded.version, base),
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
