"""Provider API calls are capped across runs by a Dagster concurrency pool, on PostgreSQL.

Several runs of `aws_cost_explorer_raw`, one per day, each its own `dagster asset materialize`
process, execute at the same time on one instance built from deploy/dagster/dagster.yaml. The
local Cost Explorer counts the runs (one day each) with a request in flight at once: with the
pool limit at 1 it never sees two; with the limit at 2 it sees exactly two (the control case, so
the test can fail). A failure prints the request timeline and each run's step window.
The limit is set with the documented `dagster instance concurrency set`.
"""

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from finops_assets.domain.sources import aws_cost_explorer
from finops_assets.ingest.assets import API_POOLS
from finops_assets.sample.aws_cost_explorer_writer import build_pages
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake
from finops_assets_tests.conftest import REPO_ROOT
from finops_assets_tests.servers.cost_explorer import CostExplorerServer, Script
from finops_assets_tests.servers.postgres import running_postgres

PRODUCTION_YAML = REPO_ROOT / "deploy" / "dagster" / "dagster.yaml"
POOL = API_POOLS[aws_cost_explorer.SOURCE]
DAYS = [dt.date(2026, 10, 1) + dt.timedelta(days=n) for n in range(3)]
ROWS_PER_DAY, PAGE_SIZE = 60, 30  # two pages a day: two sequential calls per run
RAW = tables.raw_contract(aws_cost_explorer)
DAGSTER_CLI = Path(sys.executable).with_name("dagster")


class PerDayCostExplorer(CostExplorerServer):
    """Serves each requested day its own pages and counts the *runs* (one day each) with a
    request in flight at once. A run's requests are sequential, so two days in flight means two
    runs calling at the same time. The first call is held for up to `hold` seconds until another
    day's request arrives: every other run gets the chance to call."""

    def __init__(self, pages_by_day: dict[str, list[dict[str, Any]]], hold: float):
        super().__init__(Script(delay=0.0))
        self.pages_by_day = pages_by_day
        self.hold = hold
        self.max_runs_in_flight = 0
        self.timeline: list[tuple[float, str, str]] = []  # (monotonic time, "in"/"out", day)
        self._days_in_flight: Counter[str] = Counter()
        self._held = False

    def _runs_in_flight(self) -> int:
        with self._lock:
            return len(+self._days_in_flight)

    def answer(self, operation: str, request: dict[str, Any]) -> tuple[int, bytes | None]:
        day = request["TimePeriod"]["Start"]
        with self._lock:
            self.calls += 1
            self.requests.append((operation, request))
            first, self._held = not self._held, True
            self._days_in_flight[day] += 1
            self.max_runs_in_flight = max(self.max_runs_in_flight, len(+self._days_in_flight))
            self.timeline.append((time.monotonic(), "in", day))
        try:
            deadline = time.monotonic() + (self.hold if first else 0.2)
            while time.monotonic() < deadline and not (first and self._runs_in_flight() >= 2):
                time.sleep(0.01)
            return 200, self._page(day, request.get("NextPageToken"))
        finally:
            with self._lock:
                self._days_in_flight[day] -= 1
                self.timeline.append((time.monotonic(), "out", day))

    def _page(self, day: str, token: str | None) -> bytes:
        pages = self.pages_by_day[day]
        index = int(token.split("-")[1]) if token else 0
        page = {k: v for k, v in pages[index].items() if k != "NextPageToken"}
        if index + 1 < len(pages):
            page["NextPageToken"] = f"page-{index + 1}"
        return json.dumps(page).encode()

    def describe(self) -> str:
        """The request timeline, for a failure message."""
        start = self.timeline[0][0] if self.timeline else 0.0
        return "\n".join(f"{t - start:8.3f}s {what:>3} {day}" for t, what, day in self.timeline)


@pytest.fixture(scope="module")
def dagster_home(tmp_path_factory) -> Iterator[Path]:
    """DAGSTER_HOME holding the production dagster.yaml, pointed at a PostgreSQL server of this
    module's own: no pool, slot or pending step left by another test's runs can count here."""
    home = tmp_path_factory.mktemp("rate-limits") / "dagster"
    home.mkdir()
    shutil.copy(PRODUCTION_YAML, home / "dagster.yaml")
    with running_postgres() as postgres_server, pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_HOME", str(home))
        for key, value in postgres_server.env().items():
            patch.setenv(key, value)
        yield home


@pytest.fixture
def cost_explorer(monkeypatch, dagster_home, tmp_path):
    """The local Cost Explorer; FINOPS_SOURCE_AWS_COST_EXPLORER=api sends boto3 to it."""
    pages = {d.isoformat(): build_pages(d, 7, ROWS_PER_DAY, page_size=PAGE_SIZE) for d in DAYS}
    assert all(len(p) == 2 for p in pages.values())
    with PerDayCostExplorer(pages, hold=10.0) as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL_COST_EXPLORER", server.url)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        monkeypatch.setenv("FINOPS_HOME", str(tmp_path))
        monkeypatch.delenv("FINOPS_LAKE_URI", raising=False)
        monkeypatch.setenv("FINOPS_SOURCE_AWS_COST_EXPLORER", "api")
        monkeypatch.setenv("FINOPS_CE_MAX_ATTEMPTS", "1")  # a throttle would fail the run
        yield server


def _set_pool_limit(limit: int) -> None:
    """The documented command, run as an operator would (DAGSTER_HOME from the environment)."""
    command = [str(DAGSTER_CLI), "instance", "concurrency", "set", POOL, str(limit)]
    subprocess.run(command, check=True, capture_output=True, env=os.environ.copy(), timeout=120)


def _materialize_days_at_once(home: Path) -> list[dg.DagsterRun]:
    """One `dagster asset materialize` process per day, all started together: separate run
    workers on the same instance, as a backfill of single-partition runs would have."""
    with dg.DagsterInstance.from_config(str(home)) as instance:
        before = {run.run_id for run in instance.get_runs()}
    processes = [
        subprocess.Popen(
            [
                str(DAGSTER_CLI),
                "asset",
                "materialize",
                "-m",
                "finops_assets.definitions",
                "--select",
                RAW.name,
                "--partition",
                day.isoformat(),
            ],
            env=os.environ.copy(),
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )  # fmt: skip
        for day in DAYS
    ]
    try:
        outputs = [process.communicate(timeout=300)[0] for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    for process, output in zip(processes, outputs, strict=True):
        assert process.returncode == 0, output[-3000:]
    with dg.DagsterInstance.from_config(str(home)) as instance:
        return [run for run in instance.get_runs() if run.run_id not in before]


def _step_windows(home: Path, runs: list[dg.DagsterRun]) -> str:
    """Each run's step start and end (wall clock) from the event log, for a failure message."""
    lines = []
    with dg.DagsterInstance.from_config(str(home)) as instance:
        for run in runs:
            records = instance.all_logs(run.run_id)
            times = [
                (record.dagster_event.event_type_value, record.timestamp)
                for record in records
                if record.dagster_event is not None and record.dagster_event.is_step_event
            ]
            starts = [t for kind, t in times if kind == "STEP_START"]
            ends = [t for kind, t in times if kind in ("STEP_SUCCESS", "STEP_FAILURE")]
            lines.append(f"{run.run_id[:8]} {run.tags.get('dagster/partition')} {starts} {ends}")
    return "\n".join(lines)


def test_the_api_assets_declare_their_provider_pools():
    from finops_assets.definitions import defs

    graph = defs.resolve_asset_graph()
    assert graph.get(dg.AssetKey("aws_cost_explorer_raw")).pools == {"aws_cost_explorer_api"}
    assert graph.get(dg.AssetKey("azure_cost_raw")).pools == {"azure_cost_management_api"}
    assert graph.get(dg.AssetKey("aws_cur_raw")).pools == {"write_aws_cur_raw"}


@pytest.mark.slow
def test_the_production_instance_limits_pools_per_op(dagster_home):
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        storage = instance.event_log_storage
        assert storage.supports_global_concurrency_limits
        config = storage.get_pool_config()
    # op granularity: every executor (in-process too) claims a slot before the step runs
    assert config.pool_granularity is not None and config.pool_granularity.value == "op"
    assert config.default_pool_limit == 1


@pytest.mark.parametrize("limit", [1, 2])
@pytest.mark.slow
def test_concurrent_runs_never_exceed_the_pool_limit(cost_explorer, dagster_home, tmp_path, limit):
    _set_pool_limit(limit)
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        assert instance.event_log_storage.get_concurrency_info(POOL).slot_count == limit

    runs = _materialize_days_at_once(dagster_home)

    assert sorted(run.tags.get("dagster/partition", "") for run in runs) == [
        d.isoformat() for d in DAYS
    ]
    assert all(run.status == dg.DagsterRunStatus.SUCCESS for run in runs)
    # limit 1: the held first call stays alone; limit 2: a second run joined it, a third could not
    windows = _step_windows(dagster_home, runs)
    assert cost_explorer.max_runs_in_flight == limit, (
        f"requests:\n{cost_explorer.describe()}\nsteps (run, start, end):\n{windows}"
    )
    assert cost_explorer.calls == 2 * len(DAYS)
    asked = {request["TimePeriod"]["Start"] for _, request in cost_explorer.requests}
    assert asked == {d.isoformat() for d in DAYS}
    lake = DeltaLake(str(tmp_path / "lake"))
    assert [lake.read_day(RAW, d).height for d in DAYS] == [ROWS_PER_DAY] * len(DAYS)
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        info = instance.event_log_storage.get_concurrency_info(POOL)
    assert info.claimed_slots == [] and info.pending_steps == []
