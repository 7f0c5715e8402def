"""allocated_costs allocates with the materialized rule version of each day, never the file.

Real Delta tables in a temp lake and a real temp instance: a rules edit that was never
materialized is not used by the next allocation; materializing allocation_rules and then
applicable_rules (the day's version) is what changes the split.
"""

import datetime as dt

import dagster as dg
import polars as pl
import pytest

from finops_assets.allocate.rules_versions import (
    RulesNotMaterializedError,
    history_in_force,
    record_rules,
)
from finops_assets.domain.rule_history import applicable_row, load_rule_history
from finops_assets.domain.rules import load_rules
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake
from finops_assets_tests.allocate.conftest import DAYS, Estate, run_assets
from finops_assets_tests.allocate.rules_change import (
    NEW_VERSION,
    definitions_with_rules,
    write_bumped_rules,
    write_shipped_rules,
)

pytestmark = pytest.mark.slow


def _rule_versions(estate: Estate, day: dt.date) -> set[str]:
    frame = estate.lake.read_day(tables.ALLOCATED_COSTS, day)
    return set(frame["x_allocation_rule_version"].unique().to_list())


def test_an_edit_that_was_never_materialized_is_not_used(estate: Estate, tmp_path):
    rules = write_shipped_rules(tmp_path / "rules.yaml")
    defs = definitions_with_rules(rules)
    in_force = _rule_versions(estate, DAYS[0])
    write_bumped_rules(rules)  # edited, not materialized
    assert run_assets(defs, estate.instance, ["allocated_costs"], [DAYS[0]]).success
    assert _rule_versions(estate, DAYS[0]) == in_force
    assert run_assets(defs, estate.instance, ["allocation_rules"], []).success
    # the history is materialized, the day's version not yet: still the old rules
    assert run_assets(defs, estate.instance, ["allocated_costs"], [DAYS[0]]).success
    assert _rule_versions(estate, DAYS[0]) == in_force
    selection = ["applicable_rules", "allocated_costs"]
    assert run_assets(defs, estate.instance, selection, [DAYS[0]]).success
    [after] = _rule_versions(estate, DAYS[0])
    assert after.startswith(f"{NEW_VERSION}-") and {after} != in_force
    # back to the shipped rules for the other tests of this module
    write_shipped_rules(rules)
    assert run_assets(defs, estate.instance, ["allocation_rules"], []).success
    assert run_assets(defs, estate.instance, selection, DAYS).success


def test_rule_versions_are_stored_once_and_read_back_by_data_version(tmp_path):
    lake = DeltaLake(str(tmp_path / "lake"))
    text = write_shipped_rules(tmp_path / "rules.yaml").read_text(encoding="utf-8")
    loaded = load_rule_history(text)
    first = record_rules(lake, text, loaded)
    assert record_rules(lake, text, loaded) == first  # the same version again writes nothing
    bumped = write_bumped_rules(tmp_path / "bumped.yaml").read_text(encoding="utf-8")
    record_rules(lake, bumped, load_rule_history(bumped))
    assert lake.read_all(tables.ALLOCATION_RULES).height == 2
    assert history_in_force(lake, loaded.data_version) == loaded
    with pytest.raises(RulesNotMaterializedError, match="materialize allocation_rules"):
        history_in_force(lake, "1999.1-000000000000")


def test_allocating_before_any_rules_were_materialized_fails_clearly(tmp_path, monkeypatch):
    monkeypatch.setenv("FINOPS_HOME", str(tmp_path))
    defs = definitions_with_rules(write_shipped_rules(tmp_path / "rules.yaml"))
    with dg.instance_for_test() as instance:
        result = run_assets(defs, instance, ["allocated_costs"], [DAYS[0]])
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    message = failure.step_failure_data.error.cause.message  # type: ignore[union-attr]
    assert "materialize applicable_rules" in message


def _write_old_schema_table(lake: DeltaLake, text: str) -> str:
    """The allocation_rules table as releases before effective dates wrote it: one rule set per
    row (rules_version, data_version, content_hash, rules_yaml), no window columns."""
    loaded = load_rules(text)
    row = pl.DataFrame(
        {
            "rules_version": [loaded.version],
            "data_version": [loaded.data_version],
            "content_hash": [loaded.content_hash],
            "rules_yaml": [text],
        }
    )
    row.write_delta(lake.table_uri(tables.ALLOCATION_RULES), mode="overwrite")
    return loaded.data_version


def test_a_lake_written_before_effective_dates_keeps_working(tmp_path):
    lake = DeltaLake(str(tmp_path / "lake"))
    text = write_shipped_rules(tmp_path / "rules.yaml").read_text(encoding="utf-8")
    old_version = _write_old_schema_table(lake, text)  # what Dagster's materialization carries
    # the rule set the old release materialized reads back as a one-version history
    [version] = history_in_force(lake, old_version).versions
    assert version.rules == load_rules(text)
    assert (version.effective_from, version.effective_to, version.restate_from) == (None,) * 3
    assert applicable_row(history_in_force(lake, old_version), DAYS[0])[
        "data_version"
    ].to_list() == [old_version]
    # the next materialization keeps the old row (its text too) and rewrites the table with windows
    bumped = write_bumped_rules(tmp_path / "bumped.yaml").read_text(encoding="utf-8")
    new = load_rule_history(bumped)
    record_rules(lake, bumped, new)
    stored = lake.read_all(tables.ALLOCATION_RULES)
    assert stored.columns == list(tables.ALLOCATION_RULES.columns)
    assert stored.height == 2
    assert stored.filter(pl.col("history_version") == old_version)["history_yaml"].to_list() == [
        text
    ]
    assert history_in_force(lake, old_version).versions[0].rules == load_rules(text)
    assert history_in_force(lake, new.data_version) == new
