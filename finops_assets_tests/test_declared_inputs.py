"""Every table an asset reads is a declared upstream asset, so the UI's lineage is the truth.

A small real materialization of the whole graph (1 day of the sample estate, a temp Dagster
instance, real Delta tables) runs with the storage layer's read and write calls wrapped: each
call is recorded with the asset(s) of the step making it (`AssetExecutionContext.get()`), then
passed on unchanged. The tables a step writes name their producing asset; every table a step
reads must be its own or come from an asset it declares (deps= / AssetIn).
"""

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import dagster as dg
import pytest

from finops_assets.definitions import defs
from finops_assets.demo import materialize_window
from finops_assets.sample.generate import generate_estate
from finops_assets.settings import Settings
from finops_assets.storage.delta import DeltaLake

pytestmark = pytest.mark.slow

READS = ("exists", "version", "count_day", "read_day_chunks", "scan", "read_days", "read_day",
         "read_day_columns", "read_all", "commits")  # fmt: skip
WRITES = ("write_day", "write_day_stream", "append_day", "write_all")
DAY = dt.date(2026, 10, 1)
# Tables written outside the graph, by a person's command, never by an asset: no asset can
# declare them upstream (a closed period must not make every allocated day stale).
WRITTEN_BY_COMMANDS = {"period_audit": "finops close / finops reopen (cli.py)"}

Calls = dict[str, dict[frozenset[dg.AssetKey], set[str]]]


def _step_assets() -> frozenset[dg.AssetKey] | None:
    try:
        context = dg.AssetExecutionContext.get()
    except Exception:  # outside a step (a sensor, the test itself)
        return None
    return frozenset(context.selected_asset_keys) if context is not None else None


def _recording(method: Callable[..., Any], kind: str, calls: Calls) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(self: DeltaLake, contract: Any, *args: Any, **kwargs: Any) -> Any:
        assets = _step_assets()
        if assets is not None:
            calls[kind][assets].add(contract.name)
        return method(self, contract, *args, **kwargs)

    return wrapper


@pytest.fixture(scope="module")
def calls(tmp_path_factory: pytest.TempPathFactory) -> Calls:
    """Table reads and writes per step of a one-day materialization of every asset."""
    home = tmp_path_factory.mktemp("finops")
    recorded: Calls = {"read": defaultdict(set), "write": defaultdict(set)}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FINOPS_HOME", str(home))
        for name in READS + WRITES:
            kind = "read" if name in READS else "write"
            patch.setattr(DeltaLake, name, _recording(getattr(DeltaLake, name), kind, recorded))
        generate_estate(Settings.from_env().landing_dir, DAY, 1, rows_per_day=120)
        (home / "dagster").mkdir()
        with dg.instance_for_test(temp_dir=str(home / "dagster")) as instance:
            materialize_window(instance, DAY, DAY)  # a failed step still shows its reads
            # the review group runs on request only, never in the whole-graph run
            materialize_window(instance, DAY, DAY, "allocation_preview")
    return recorded


def undeclared_reads(calls: Calls) -> dict[str, list[str]]:
    """Per step: tables it reads whose producer it neither is nor declares as upstream."""
    graph = defs.resolve_asset_graph()
    producer: dict[str, set[dg.AssetKey]] = defaultdict(set)  # a table may have several writers
    for assets, written in calls["write"].items():
        for table in written:
            producer[table] |= assets
    found: dict[str, list[str]] = {}
    for assets, tables_read in calls["read"].items():
        allowed = set(assets)
        for key in assets:
            allowed |= graph.get(key).parent_keys
        missing = []
        for table in sorted(set(tables_read) - set(WRITTEN_BY_COMMANDS)):
            owners = producer.get(table) or {dg.AssetKey(table)}
            if not owners & allowed:
                missing.append(f"{table} (from {', '.join(k.to_user_string() for k in owners)})")
        if missing:
            found[", ".join(sorted(k.to_user_string() for k in assets))] = missing
    return found


def test_the_instrumentation_sees_reads_and_writes(calls: Calls) -> None:
    """The wrapper really records (else the comparison below could not fail)."""
    kpi_reads = next(t for a, t in calls["read"].items() if dg.AssetKey("finops_kpis") in a)
    assert "allocated_costs" in kpi_reads and "budget_status" in kpi_reads
    assert len(calls["write"]) >= 10
    seen = set().union(*calls["read"], *calls["write"])
    every_asset = set(defs.resolve_asset_graph().get_all_asset_keys())
    assert every_asset - seen == set()  # every asset's step ran and was seen


def test_every_table_an_asset_reads_is_a_declared_upstream(calls: Calls) -> None:
    found = undeclared_reads(calls)
    assert found == {}, "\n".join(f"{step}: {tables}" for step, tables in found.items())


def test_tables_written_by_commands_are_written_by_no_asset(calls: Calls) -> None:
    written = set().union(*calls["write"].values())
    assert written & set(WRITTEN_BY_COMMANDS) == set()
