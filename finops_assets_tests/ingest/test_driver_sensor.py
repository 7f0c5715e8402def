"""allocation_drivers_sensor: a new or changed driver file asks for a run of each day it covers."""

import datetime as dt

import dagster as dg

from finops_assets.definitions import defs
from finops_assets.domain.driver_files import SOURCE
from finops_assets.ingest.driver_assets import driver_files, misnamed_files
from finops_assets.ingest.driver_sensor import DRIVER_SELECTION, driver_run_requests
from finops_assets.resources.lake import LakeResource

FILE = "day,key,measure,quantity\n2026-10-01,payments,seats,1\n2026-10-03,search,seats,2\n"


def test_the_selection_lands_drivers_and_reallocates_without_the_preview() -> None:
    keys = DRIVER_SELECTION.resolve(defs.resolve_asset_graph())
    names = {k.to_user_string() for k in keys}
    assert {"allocation_drivers_raw", "applicable_rules", "allocated_costs"} <= names
    assert "cost_by_business_unit" in names  # what follows allocated_costs follows
    assert "allocation_preview" not in names and "allocation_rules" not in names
    assert "normalized_costs" not in names


def test_one_run_per_day_the_file_names_until_the_archive_holds_its_bytes(tmp_path) -> None:
    landing, lake = tmp_path / "landing", LakeResource(lake_uri=str(tmp_path / "lake"))
    keys = [dg.AssetKey("allocation_drivers_raw")]
    assert driver_run_requests(landing, lake, keys) == []  # no drivers folder yet
    folder = landing / "drivers" / "support_seats"
    folder.mkdir(parents=True)
    (folder / "2026-10.csv").write_text(FILE, encoding="utf-8")
    (folder / "notes.csv").write_text(FILE, encoding="utf-8")  # not a driver file name: ignored

    requests = driver_run_requests(landing, lake, keys)
    assert [r.partition_key for r in requests] == ["2026-10-01", "2026-10-03"]
    assert all(r.asset_selection == keys for r in requests)

    data = (folder / "2026-10.csv").read_bytes()
    lake.archive().store(SOURCE, dt.date(2026, 10, 1), "drivers/support_seats/2026-10.csv", data)
    assert [r.partition_key for r in driver_run_requests(landing, lake, keys)] == ["2026-10-03"]

    (folder / "2026-10.csv").write_text(FILE + "2026-10-01,ml,seats,4\n", encoding="utf-8")
    changed = driver_run_requests(landing, lake, keys)  # restated: both days again, new keys
    assert [r.partition_key for r in changed] == ["2026-10-01", "2026-10-03"]
    assert changed[1].run_key != requests[1].run_key


def test_the_asset_reads_the_day_and_month_files_and_names_the_misnamed_ones(tmp_path) -> None:
    folder = tmp_path / "drivers" / "support_seats"
    folder.mkdir(parents=True)
    for name in ("2026-10.csv", "2026-10-01.csv", "2026-10-02.csv", "notes.csv", "2026-1.csv"):
        (folder / name).write_text(FILE, encoding="utf-8")
    read = driver_files(tmp_path, dt.date(2026, 10, 1))
    assert [p.name for p in read] == ["2026-10-01.csv", "2026-10.csv"]
    assert misnamed_files(tmp_path) == [
        "drivers/support_seats/2026-1.csv",
        "drivers/support_seats/notes.csv",
    ]
