"""allocated_costs allocates with the materialized allocation_rules version, never the file.

Real Delta tables in a temp lake and a real temp instance: a rules edit that was never
materialized is not used by the next allocation; materializing it is what changes the split.
"""

import datetime as dt

import dagster as dg
import pytest

from finops_assets.allocate.rules_versions import RulesNotMaterializedError, record_rules
from finops_assets.allocate.rules_versions import rules_in_force as stored_rules
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
    assert run_assets(defs, estate.instance, ["allocated_costs"], [DAYS[0]]).success
    [after] = _rule_versions(estate, DAYS[0])
    assert after.startswith(f"{NEW_VERSION}-") and {after} != in_force
    # back to the shipped rules for the other tests of this module
    write_shipped_rules(rules)
    assert run_assets(defs, estate.instance, ["allocation_rules", "allocated_costs"], DAYS).success


def test_rule_versions_are_stored_once_and_read_back_by_data_version(tmp_path):
    lake = DeltaLake(str(tmp_path / "lake"))
    text = write_shipped_rules(tmp_path / "rules.yaml").read_text(encoding="utf-8")
    loaded = load_rules(text)
    first = record_rules(lake, text, loaded)
    assert record_rules(lake, text, loaded) == first  # the same version again writes nothing
    bumped = write_bumped_rules(tmp_path / "bumped.yaml").read_text(encoding="utf-8")
    record_rules(lake, bumped, load_rules(bumped))
    assert lake.read_all(tables.ALLOCATION_RULES).height == 2
    assert stored_rules(lake, loaded.data_version) == loaded
    with pytest.raises(RulesNotMaterializedError, match="materialize allocation_rules"):
        stored_rules(lake, "1999.1-000000000000")


def test_allocating_before_any_rules_were_materialized_fails_clearly(tmp_path, monkeypatch):
    monkeypatch.setenv("FINOPS_HOME", str(tmp_path))
    defs = definitions_with_rules(write_shipped_rules(tmp_path / "rules.yaml"))
    with dg.instance_for_test() as instance:
        result = run_assets(defs, instance, ["allocated_costs"], [DAYS[0]])
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    message = failure.step_failure_data.error.cause.message  # type: ignore[union-attr]
    assert "materialize allocation_rules" in message
