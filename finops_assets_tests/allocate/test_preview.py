"""allocation_preview and `finops rules diff`: a candidate's impact, allocated_costs untouched.

The estate's two days are materialized with the shipped rules (real instance, real Delta);
the preview is materialized with the bumped rules as candidate in run config, and the CLI
prints the same figures.
"""

from decimal import Decimal

import dagster as dg
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from finops_assets.allocate.preview import preview_days
from finops_assets.cli import main
from finops_assets.domain.rule_history import load_rule_history
from finops_assets.storage import tables
from finops_assets_tests.allocate.conftest import DAYS, Estate
from finops_assets_tests.allocate.rules_change import (
    definitions_with_rules,
    write_bumped_rules,
    write_shipped_rules,
)

pytestmark = pytest.mark.slow  # uses the allocate estate (a whole-graph run)


def _preview(estate: Estate, rules_path, candidate) -> dg.ExecuteInProcessResult:
    defs = definitions_with_rules(rules_path)
    job = defs.resolve_implicit_global_asset_job_def().get_subset(
        asset_selection={dg.AssetKey("allocation_preview")}
    )
    return job.execute_in_process(
        instance=estate.instance,
        run_config={"ops": {"allocation_preview": {"config": {"candidate": str(candidate)}}}},
        tags={
            "dagster/asset_partition_range_start": DAYS[0].isoformat(),
            "dagster/asset_partition_range_end": DAYS[-1].isoformat(),
        },
        raise_on_error=False,
    )


@pytest.fixture(scope="module")
def previewed(estate: Estate, tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("preview")
    shipped = write_shipped_rules(folder / "rules.yaml")
    candidate = write_bumped_rules(folder / "candidate.yaml")
    allocated_version = estate.lake.version(tables.ALLOCATED_COSTS)
    result = _preview(estate, shipped, candidate)
    return {
        "result": result,
        "candidate": candidate,
        "shipped": shipped,
        "allocated_before": allocated_version,
        "allocated_after": estate.lake.version(tables.ALLOCATED_COSTS),
        "preview": estate.lake.read_days(tables.ALLOCATION_PREVIEW, DAYS),
    }


def test_the_preview_shows_what_moves_per_day_and_unit_without_touching_allocated_costs(
    previewed: dict, estate: Estate
):
    assert previewed["result"].success
    assert previewed["allocated_after"] == previewed["allocated_before"]
    preview = previewed["preview"]
    assert set(preview["x_charge_date"].to_list()) == set(DAYS)
    assert preview.filter(pl.col("billed_cost_delta") != 0).height >= 2
    for day in DAYS:
        rows = preview.filter(pl.col("x_charge_date") == day)
        source = estate.lake.read_day(tables.NORMALIZED_COSTS, day)["x_billed_cost_base"].sum()
        before = sum(rows["billed_cost_before"].to_list(), Decimal(0))
        after = sum(rows["billed_cost_after"].to_list(), Decimal(0))
        assert before == after == source  # conserved exactly, on both sides
        assert sum(rows["billed_cost_delta"].to_list(), Decimal(0)) == 0
        assert sum(rows["effective_cost_delta"].to_list(), Decimal(0)) == 0
    assert {v.split("-")[0] for v in preview["rule_version_after"].to_list()} == {"2026.11.2"}


def test_rules_diff_prints_the_same_figures(previewed: dict, estate: Estate, capsys, monkeypatch):
    monkeypatch.setenv("FINOPS_HOME", str(estate.home))
    assert main(["rules", "diff", str(previewed["candidate"])]) == 0
    out = capsys.readouterr().out
    preview = previewed["preview"].sort("x_charge_date", "x_business_unit")
    for row in preview.iter_rows(named=True):
        line = next(
            line
            for line in out.splitlines()
            if line.startswith(f"{row['x_charge_date']}  {row['x_business_unit']} ")
        )
        assert f"{row['billed_cost_delta']:+}" in line, line
    totals = [line for line in out.splitlines() if "(day total)" in line]
    assert len(totals) == len(DAYS) and all(" +0E-10 " in t or " +0." in t for t in totals), totals
    # the command and the asset share one function: identical frames
    candidate = load_rule_history(previewed["candidate"].read_text(encoding="utf-8"))
    again = preview_days(estate.lake, candidate, DAYS)
    assert_frame_equal(again.sort("x_charge_date", "x_business_unit"), preview)


def test_an_identical_candidate_moves_nothing(previewed: dict, estate: Estate, capsys, monkeypatch):
    monkeypatch.setenv("FINOPS_HOME", str(estate.home))
    candidate = load_rule_history(previewed["shipped"].read_text(encoding="utf-8"))
    same = preview_days(estate.lake, candidate, DAYS)
    assert same.height > 0
    assert same.filter(pl.col("billed_cost_delta") != 0).is_empty()


def test_a_broken_candidate_is_one_clear_error(previewed: dict, estate: Estate, tmp_path, capsys):
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        previewed["candidate"].read_text(encoding="utf-8") + "effective_form: 2026-10-02\n"
    )
    assert main(["rules", "diff", str(broken)]) == 2
    assert "did you mean 'effective_from'" in capsys.readouterr().err
