"""A small estate materialized once on a real temp instance, with real Delta tables."""

import datetime as dt
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from finops_assets.day_memo import RECOMPUTE_TAG
from finops_assets.demo import materialize_window
from finops_assets.sample.generate import generate_estate
from finops_assets.settings import Settings
from finops_assets.storage.delta import DeltaLake

START = dt.date(2026, 10, 1)
DAYS = [START, START + dt.timedelta(days=1)]


@dataclass(frozen=True)
class Estate:
    """The temp home, its lake and the Dagster instance the graph was materialized on."""

    home: Path
    lake: DeltaLake
    instance: dg.DagsterInstance


@pytest.fixture(scope="session")
def _estate_home(tmp_path_factory) -> Iterator[tuple[Path, Path]]:
    """Two days of the sample estate through the whole graph (shipped rules), materialized once.

    Returns the home every module's estate lives at and a pristine copy of it. The home keeps one
    path for the session, so the paths recorded while materializing (landing files, archive, lake)
    stay true for every module's copy.
    """
    home = tmp_path_factory.mktemp("finops")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FINOPS_HOME", str(home))
        settings = Settings.from_env()
        generate_estate(settings.landing_dir, START, len(DAYS), rows_per_day=200)
        (home / "dagster").mkdir()
        with dg.instance_for_test(temp_dir=str(home / "dagster")) as instance:
            assert materialize_window(instance, DAYS[0], DAYS[-1]).success
    pristine = tmp_path_factory.mktemp("finops-pristine") / "home"
    shutil.copytree(home, pristine, symlinks=True)
    yield home, pristine


@pytest.fixture(scope="module")
def estate(_estate_home) -> Iterator[Estate]:
    """Two days of the sample estate through the whole graph (shipped rules), this module's own.

    The materialized home is restored from its pristine copy (files, mtimes, Delta logs and the
    SQLite instance byte for byte) instead of running the graph again: what one module's runs
    change never reaches another module.
    """
    home, pristine = _estate_home
    shutil.rmtree(home)
    shutil.copytree(pristine, home, symlinks=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FINOPS_HOME", str(home))
        settings = Settings.from_env()
        with dg.instance_for_test(temp_dir=str(home / "dagster")) as instance:
            yield Estate(home, DeltaLake(settings.lake_uri), instance)


def run_assets(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    keys: list[str],
    days: list[dt.date],
    recompute: bool = False,
) -> dg.ExecuteInProcessResult:
    """Materialize `keys` for the range of `days` (none: unpartitioned) in one in-process run;
    `recompute`: every day is computed, not reused by the day memo (tag finops/recompute)."""
    job = defs.resolve_implicit_global_asset_job_def().get_subset(
        asset_selection={dg.AssetKey(k) for k in keys}
    )
    return job.execute_in_process(
        instance=instance,
        tags={
            **({RECOMPUTE_TAG: "true"} if recompute else {}),
            **(
                {
                    "dagster/asset_partition_range_start": min(days).isoformat(),
                    "dagster/asset_partition_range_end": max(days).isoformat(),
                }
                if days
                else {}
            ),
        },
        raise_on_error=False,
    )
