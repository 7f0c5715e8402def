"""allocated_costs on a day larger than its chunk size: streamed, checked, one commit.

The chunk size is lowered so that a sample day of about 260 normalized rows streams in
chunks of 60 through the real asset, on a real instance and real Delta tables.
"""

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import finops_assets.allocate.day as allocate_day_module
from finops_assets.allocate.versions import allocation_versions
from finops_assets.storage import tables
from finops_assets.storage.validation import ValidationOutcome
from finops_assets_tests.allocate.conftest import DAYS, run_assets
from finops_assets_tests.allocate.rules_change import definitions_with_rules, write_shipped_rules

pytestmark = pytest.mark.slow

KEY = "x_allocation_row_key"


def _allocated(estate, day) -> pl.DataFrame:
    return estate.lake.read_day(tables.ALLOCATED_COSTS, day).sort(KEY)


def test_a_streamed_day_equals_the_day_allocated_in_memory(estate, tmp_path, monkeypatch):
    defs = definitions_with_rules(write_shipped_rules(tmp_path / "rules.yaml"))
    day = DAYS[0]
    assert run_assets(defs, estate.instance, ["allocated_costs"], [day]).success
    in_memory = _allocated(estate, day)
    read = allocation_versions(estate.lake, day)["x_input_version"].item()
    source_rows = estate.lake.count_day(tables.NORMALIZED_COSTS, day)
    assert source_rows > 180  # several chunks of 60

    calls = []
    real = allocate_day_module.allocate_chunks

    def counting(chunks, *args, **kwargs):
        sizes: list[int] = []
        calls.append(sizes)

        def counted():
            for chunk in chunks:
                sizes.append(chunk.height)
                yield chunk

        yield from real(counted(), *args, **kwargs)

    monkeypatch.setattr(allocate_day_module, "STREAM_ABOVE_ROWS", 100)
    monkeypatch.setattr(allocate_day_module, "ALLOCATION_CHUNK_ROWS", 60)
    monkeypatch.setattr(allocate_day_module, "allocate_chunks", counting)
    before = estate.lake.version(tables.ALLOCATED_COSTS) or 0
    result = run_assets(defs, estate.instance, ["allocated_costs"], [day], recompute=True)
    assert result.success
    assert len(calls) == 1 and sum(calls[0]) == source_rows and max(calls[0]) < 60 * 2
    assert estate.lake.version(tables.ALLOCATED_COSTS) == before + 1  # one commit for the day
    assert_frame_equal(_allocated(estate, day), in_memory)
    record = allocation_versions(estate.lake, day).row(0, named=True)
    assert record["x_run_id"] == result.run_id
    # The inputs' fingerprint does not depend on chunking (the ledger sees no change).
    assert record["x_input_version"] == read


def test_a_check_failing_in_a_later_chunk_leaves_the_day_as_it_was(estate, tmp_path, monkeypatch):
    defs = definitions_with_rules(write_shipped_rules(tmp_path / "rules.yaml"))
    day = DAYS[1]
    assert run_assets(defs, estate.instance, ["allocated_costs"], [day]).success
    kept = _allocated(estate, day)
    version = estate.lake.version(tables.ALLOCATED_COSTS)
    seen = []
    real = allocate_day_module.allocated_contract_result

    def fails_on_the_third_chunk(frame):
        seen.append(frame.height)
        if len(seen) == 3:
            return ValidationOutcome(False, 1, [{"column": "BilledCost", "check": "injected"}])
        return real(frame)

    monkeypatch.setattr(allocate_day_module, "STREAM_ABOVE_ROWS", 100)
    monkeypatch.setattr(allocate_day_module, "ALLOCATION_CHUNK_ROWS", 60)
    monkeypatch.setattr(allocate_day_module, "allocated_contract_result", fails_on_the_third_chunk)
    result = run_assets(defs, estate.instance, ["allocated_costs"], [day], recompute=True)
    assert not result.success
    assert len(seen) > 3  # the stream ran to its end before the checks vetoed the commit
    assert estate.lake.version(tables.ALLOCATED_COSTS) == version
    assert_frame_equal(_allocated(estate, day), kept)
    checks = result.get_asset_check_evaluations()
    contract = [c for c in checks if c.check_name == "check_allocated_contract"]
    assert contract and not contract[0].passed
