"""normalized_costs streams a day per source and in chunks: the same rows, checks and version.

Real sample estate, real Delta lake, real Dagster instance; nothing mocked. The streamed day is
compared with the whole-day path (normalize.pipeline.normalize_day, every source at once).
"""

import datetime as dt

import dagster as dg
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from finops_assets.conformance.check import NORMALIZE_SELECTION
from finops_assets.demo import materialize_window
from finops_assets.domain import normalize as normalize_domain
from finops_assets.domain import row_conservation
from finops_assets.domain.catalog import load_shipped_catalog
from finops_assets.domain.reference import load_tag_aliases
from finops_assets.normalize import streaming
from finops_assets.normalize.checks import conservation_result, money_conserved_result
from finops_assets.normalize.pipeline import normalize_day
from finops_assets.sample.generate import generate_estate
from finops_assets.settings import Settings
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake
from finops_assets.storage.fingerprint import (
    fingerprints_version,
    frame_fingerprint,
    frames_fingerprint,
    lineage_fingerprint,
)
from finops_assets.storage.spill import SpillFolder

pytestmark = pytest.mark.slow  # each test runs on a day a real Dagster run materialized
DAY = dt.date(2026, 10, 1)
CHUNK = 200  # rows a chunk: the sample's CUR day (~1k rows) runs in several


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    """One sample day ingested and normalized (at the default chunk size) by a real run."""
    home = tmp_path_factory.mktemp("streamed")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FINOPS_HOME", str(home))
        settings = Settings.from_env()
        generate_estate(settings.landing_dir, DAY, 1, rows_per_day=1_000)
        (home / "dagster").mkdir()
        with dg.instance_for_test(temp_dir=str(home / "dagster")) as instance:
            result = materialize_window(instance, DAY, DAY, NORMALIZE_SELECTION)
            assert result.success
            version = _data_version(instance), _lineage_version(instance)
        yield DeltaLake(settings.lake_uri), settings, version


def _data_version(instance: dg.DagsterInstance) -> str:
    event = instance.get_latest_materialization_event(dg.AssetKey("normalized_costs"))
    assert event is not None and event.asset_materialization is not None
    return event.asset_materialization.tags["dagster/data_version"]


def _lineage_version(instance: dg.DagsterInstance) -> str:
    """The day memo's lineage version the day's materialization recorded (day_memo.py)."""
    event = instance.get_latest_materialization_event(dg.AssetKey("normalized_costs"))
    assert event is not None and event.asset_materialization is not None
    return event.asset_materialization.metadata["lineage_version"].value  # type: ignore[return-value]


def _kwargs(settings: Settings) -> dict:
    catalog, catalog_version = load_shipped_catalog()
    return {
        "catalog": catalog,
        "catalog_version": catalog_version,
        "base_currency": settings.base_currency,
        "tag_aliases": load_tag_aliases(),
    }


def test_a_chunked_day_equals_the_whole_day(lake, monkeypatch):
    """In chunks of 200 rows: the same rows, quarantine, check figures and data version as
    the whole day; and normalize_costs never sees much more than a chunk at once."""
    delta, settings, _ = lake
    heights = []
    real = normalize_domain.normalize_costs

    def counting(rows, **kwargs):
        heights.append(rows.height)
        return real(rows, **kwargs)

    whole = normalize_day(delta, DAY, **_kwargs(settings))
    monkeypatch.setattr(normalize_domain, "normalize_costs", counting)
    with SpillFolder() as spill:
        day = streaming.normalize_day_streamed(
            delta, DAY, spill.hold, chunk_rows=CHUNK, **_kwargs(settings)
        )
        rows = pl.concat(list(day.rows()))
    assert day.consistent and len(day.held) > 5
    assert max(heights) < 2 * CHUNK and sum(heights) == whole.rows.height
    key = list(normalize_domain.SORT_KEY)
    assert_frame_equal(rows.sort(key), whole.rows.sort(key))
    assert_frame_equal(day.quarantine, whole.quarantine)
    catalog_version = _kwargs(settings)["catalog_version"]
    streamed = fingerprints_version(
        [day.rows_fingerprint, frame_fingerprint(day.quarantine)], catalog_version
    )
    assert streamed == frames_fingerprint([whole.rows, whole.quarantine], catalog_version)
    # the day memo's lineage version (which delivery each row came from), folded per chunk
    assert day.lineage_version() == lineage_fingerprint([whole.rows, whole.quarantine])
    assert conservation_result(day.source_totals, day.rows_summary, day.quarantine) == (
        conservation_result(whole.source_totals, whole.rows, whole.quarantine)
    )
    streamed_check = money_conserved_result(
        DAY, day.source_summary, day.rows_summary, day.quarantine, day.twin_mismatches
    )
    whole_check = money_conserved_result(DAY, whole.source_rows, whole.rows, whole.quarantine)
    assert streamed_check[0] == whole_check[0]
    assert_frame_equal(streamed_check[1], whole_check[1])
    assert day.contract.passed and day.row_count == whole.rows.height
    # row counts summed over chunks = the whole day's, and they add up (check_rows_conserved)
    whole_counts = row_conservation.row_conservation(
        whole.source_counts, row_conservation.normalized_row_counts(whole.rows), whole.quarantine
    )
    assert_frame_equal(day.row_counts, whole_counts)
    assert row_conservation.row_failures(DAY, day.row_counts) == []
    assert day.row_counts["raw_rows"].sum() > 4 * CHUNK  # 955 rows, in chunks of 200


def test_a_key_repeated_across_chunks_fails_the_contract(lake, monkeypatch):
    """A row key in two chunks (each chunk unique on its own) fails check_normalized_contract."""
    delta, settings, _ = lake
    real = normalize_domain.normalize_costs

    def same_keys(rows, **kwargs):
        result = real(rows, **kwargs)
        keys = pl.format("k{}", pl.int_range(pl.len()))
        return normalize_domain.NormalizeResult(
            result.rows.with_columns(x_source_row_key=keys),
            result.quarantine,
            result.unmapped_services,
        )

    monkeypatch.setattr(normalize_domain, "normalize_costs", same_keys)
    with SpillFolder() as spill:
        day = streaming.normalize_day_streamed(
            delta, DAY, spill.hold, chunk_rows=CHUNK, **_kwargs(settings)
        )
    assert not day.contract.passed
    assert "across chunks" in day.contract.failures[0]["failure_case"]


def test_the_asset_in_chunks_writes_the_same_day_and_data_version(lake, monkeypatch):
    """normalized_costs re-run in chunks of 200 rows: the same table rows, data version and
    lineage version (what the day memo compares, day_memo.py)."""
    delta, settings, (version, lineage) = lake
    before = delta.read_day(tables.NORMALIZED_COSTS, DAY)
    monkeypatch.setattr(streaming, "CHUNK_ROWS", CHUNK)
    monkeypatch.setenv("FINOPS_HOME", str(settings.home))
    (settings.home / "dagster-chunked").mkdir()
    with dg.instance_for_test(temp_dir=str(settings.home / "dagster-chunked")) as instance:
        result = materialize_window(instance, DAY, DAY, "normalized_costs")
        assert result.success
        again = _data_version(instance), _lineage_version(instance)
    key = list(normalize_domain.SORT_KEY)
    after = delta.read_day(tables.NORMALIZED_COSTS, DAY)
    assert_frame_equal(
        after.drop("x_run_id", strict=False).sort(key),
        before.drop("x_run_id", strict=False).sort(key),
    )
    assert again == (version, lineage)
    quarantine = delta.read_day(tables.QUARANTINE, DAY).filter(x_source="normalized_costs")
    assert lineage == lineage_fingerprint([after, quarantine])
