"""`finops load`: what it refuses before writing anything, and how it plans deliveries.

The real public files through the whole graph, reconciled per day and currency:
test_load_public_koku.py, test_load_public_focus.py, test_load_azure_ea.py.
"""

import csv
import datetime as dt
import io
import os
from pathlib import Path

from finops_assets.cli import main

FOCUS_SAMPLE = "focus-sample-data/FOCUS-1.0/focus_sample.csv"


def test_an_unsupported_file_is_refused_in_one_clear_line(
    tmp_path, shared_data, capsys, monkeypatch
):
    monkeypatch.setenv("FINOPS_HOME", str(tmp_path / "home"))
    pod_usage = next((shared_data / "koku" / "ocp").glob("*_storage.csv"))
    assert main(["load", str(pod_usage)]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0
    assert error.startswith(f"finops load: {pod_usage}: not a billing file we recognise")
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    assert main(["load", str(notes)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"finops load: {notes}: not an export file (expected .csv, .csv.gz, .parquet or a "
        "manifest .json)"
    )
    assert not (tmp_path / "home" / "landing").exists()  # nothing was laid out


def test_a_cut_file_is_refused_naming_it_before_anything_is_written(
    tmp_path, shared_data, capsys, monkeypatch
):
    monkeypatch.setenv("FINOPS_HOME", str(tmp_path / "home"))
    data = (shared_data / FOCUS_SAMPLE).read_bytes()
    cut = tmp_path / "focus_sample.csv"
    cut.write_bytes(data[: len(data) - 25])
    assert main(["load", str(cut)]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith(f"finops load: {cut}: the last row (line 1001) ends inside a quoted")
    assert not (tmp_path / "home" / "landing").exists()


def test_a_manifest_listing_more_rows_than_delivered_is_refused(
    tmp_path, shared_data, capsys, monkeypatch
):
    monkeypatch.setenv("FINOPS_HOME", str(tmp_path / "home"))
    run = tmp_path / "exports" / "focus-daily" / "20240901-20240930" / "run-7"
    run.mkdir(parents=True)
    (run / "part_0_0001.csv").write_bytes((shared_data / FOCUS_SAMPLE).read_bytes())
    (run / "manifest.json").write_text(
        '{"exportConfig": {"exportName": "focus-daily"}, '
        '"blobs": [{"blobName": "part_0_0001.csv", "dataRowCount": 1001}]}'
    )
    assert main(["load", str(tmp_path / "exports")]) == 2
    error = capsys.readouterr().err.strip()
    assert (
        error
        == "finops load: part_0_0001.csv: 1000 data rows, "
        + str(run / "manifest.json")
        + " lists 1001"
    )


def test_month_to_date_files_of_two_runs_never_mix_the_newest_wins(tmp_path, shared_data):
    from finops_assets.loading.plan import plan_deliveries

    data = (shared_data / FOCUS_SAMPLE).read_bytes()
    older = tmp_path / "export" / "20240901-20240930" / "run-z" / "part_0_0001.csv"
    newer = tmp_path / "export" / "20240901-20240930" / "run-b" / "part_0_0001.csv"
    for path, content in ((older, data.replace(b"USD", b"EUR")), (newer, data)):
        path.parent.mkdir(parents=True)
        path.write_bytes(content)
    os.utime(older, ns=(1_000_000_000, 1_000_000_000))
    [delivery] = plan_deliveries([tmp_path / "export"])
    assert [f.path for f in delivery.files] == [newer]
    assert delivery.skipped == [f"{older}: superseded by {newer}"]


def test_a_restated_delivery_replaces_the_exports_period_folder_and_reruns_its_old_days(
    tmp_path, shared_data
):
    from finops_assets.loading.plan import plan_deliveries
    from finops_assets.loading.run import lay_out

    data = (shared_data / FOCUS_SAMPLE).read_bytes()
    landing = tmp_path / "landing"
    first = tmp_path / "first" / "focus.csv"
    first.parent.mkdir()
    first.write_bytes(data)
    assert lay_out(plan_deliveries([first]), landing) == set()
    # The restatement no longer has 2024-09-30's rows.
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    restated = tmp_path / "second" / "focus.csv"
    restated.parent.mkdir()
    with restated.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), quoting=csv.QUOTE_ALL)
        writer.writeheader()
        writer.writerows(r for r in rows if not r["ChargePeriodStart"].startswith("2024-09-30"))
    [delivery] = plan_deliveries([restated])
    assert delivery.period == (dt.date(2024, 9, 1), dt.date(2024, 9, 29))
    replaced = lay_out([delivery], landing)
    assert dt.date(2024, 9, 30) in replaced and len(replaced) == 30
    folders = sorted(p.relative_to(landing).as_posix() for p in landing.glob("*/*/*"))
    assert folders == ["focus_export/20240901-20240929/focus"]


def test_runs_of_one_export_are_recognised_by_folder_or_by_name():
    from finops_assets.loading.plan import export_name

    guid = "3d1f0c47-6b5e-4c55-9d8c-2b1a0e9f7a11"
    assert export_name(Path(f"/x/costs/daily/20240901-20240930/{guid}/part_0_0001.csv")) == "daily"
    assert export_name(Path("/x/costs/daily/20240901-20240930/part_0_0001.csv")) == "daily"
    assert export_name(Path(f"/x/DailyExport_{guid}.csv")) == "DailyExport"
    assert export_name(Path("/x/cost_20240105.csv.gz")) == "cost"
    assert export_name(Path("/downloads/focus_sample.csv")) == "focus_sample"


def test_today_is_not_a_complete_day_it_waits_for_the_next_load():
    from finops_assets.loading.run import split_complete_days

    today = dt.datetime.now(dt.UTC).date()
    yesterday = today - dt.timedelta(days=1)
    complete, pending = split_complete_days({yesterday, today})
    assert complete == {yesterday}
    assert pending == [today]
