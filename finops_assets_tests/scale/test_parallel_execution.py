"""Independent work runs in parallel locally: the multiprocess executor gives the same tables.

The wall-clock ratio (in-process / multiprocess) is measured and printed, never asserted: it
depends on the cores free at the time.
"""

import datetime as dt
import time

import dagster as dg
import pytest
from polars.testing import assert_frame_equal

from finops_assets.domain.sources import aws_cur
from finops_assets.sample.generate import generate_estate
from finops_assets.settings import Settings
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake
from finops_assets_tests.scale.jobs import ingest_and_normalize_job

pytestmark = pytest.mark.slow

START = dt.date(2026, 10, 1)
# Two days (a ranged run) of every source: the property is the same tables, whatever the size
# (the ratio printed is not asserted, and README quotes no figure of this test).
DAYS = [START + dt.timedelta(days=n) for n in range(2)]
ROWS = 1_000
TAGS = {
    "dagster/asset_partition_range_start": DAYS[0].isoformat(),
    "dagster/asset_partition_range_end": DAYS[-1].isoformat(),
}


def _run(home, landing, executor_config: dict, monkeypatch) -> tuple[float, Settings]:
    monkeypatch.setenv("FINOPS_HOME", str(home))
    monkeypatch.setenv("FINOPS_LANDING_DIR", str(landing))
    (home / "dagster").mkdir(parents=True)
    with dg.instance_for_test(temp_dir=str(home / "dagster")) as instance:
        began = time.perf_counter()
        with dg.execute_job(
            dg.reconstructable(ingest_and_normalize_job),
            instance=instance,
            run_config={"execution": {"config": executor_config}},
            tags=TAGS,
        ) as result:
            elapsed = time.perf_counter() - began
            assert result.success
    return elapsed, Settings.from_env()


def test_multiprocess_run_writes_the_same_tables_as_in_process(tmp_path, monkeypatch, capsys):
    landing = tmp_path / "landing"
    generate_estate(landing, START, len(DAYS), rows_per_day=ROWS)
    serial, one = _run(tmp_path / "a", landing, {"in_process": {}}, monkeypatch)
    parallel, two = _run(
        tmp_path / "b", landing, {"multiprocess": {"max_concurrent": 2}}, monkeypatch
    )
    for contract in (tables.NORMALIZED_COSTS, tables.raw_contract(aws_cur)):
        expected = DeltaLake(one.lake_uri).read_days(contract, DAYS)
        got = DeltaLake(two.lake_uri).read_days(contract, DAYS)
        keys = [c for c, t in expected.schema.items() if not t.is_nested()]
        assert expected.height > 0
        assert_frame_equal(got.sort(keys), expected.sort(keys))
    with capsys.disabled():
        print(
            f"\n[scale] ingest+normalize, {len(DAYS)} days x {ROWS} rows: in-process {serial:.1f} s, "
            f"multiprocess(2) {parallel:.1f} s, speed-up {serial / parallel:.2f}x"
        )
