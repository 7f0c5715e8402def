"""Deliveries through the real landing folder, archive and raw asset: duplicates count once,
a billing-period file is parsed once and split by day, manifests decide what is whole and what
is superseded, and a cut copy never replaces a complete file."""

import csv
import datetime as dt
import io
import json
import shutil
import types
from decimal import Decimal
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from finops_assets.domain.deliveries import IncompleteDeliveryError
from finops_assets.domain.sources import focus_export, gcp_billing_export
from finops_assets.ingest.assets import build_raw_asset
from finops_assets.ingest.pipeline import ParseCache, ingest_payloads
from finops_assets.resources.lake import LakeResource, LandingResource
from finops_assets.resources.payloads import LandingFolder
from finops_assets.sample import focus_export_writer
from finops_assets.storage.archive import RawArchive

SEPTEMBER = [dt.date(2024, 9, 1) + dt.timedelta(days=n) for n in range(30)]


def _put(landing: Path, relative: str, data: bytes) -> Path:
    path = landing / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _total(frame: pl.DataFrame) -> Decimal:
    return frame["cost"].sum() if frame.height else Decimal(0)


@pytest.fixture(scope="module")
def gcp_day(shared_data) -> bytes:
    return (shared_data / "koku" / "gcp" / "2022-08-01_5.csv").read_bytes()


@pytest.fixture(scope="module")
def focus_month(shared_data) -> bytes:
    return (shared_data / "focus-sample-data" / "FOCUS-1.0" / "focus_sample.csv").read_bytes()


def test_the_same_bytes_under_two_names_and_folders_count_once(tmp_path, gcp_day):
    landing, day = tmp_path / "landing", dt.date(2022, 8, 1)
    _put(landing, "gcp_billing_export/2022-08-01/export.csv", gcp_day)
    _put(landing, "gcp_billing_export/2022-08-01/export (1).csv".replace(" (1)", "-copy"), gcp_day)
    _put(landing, "gcp_billing_export/20220801-20220801/billing/export.csv", gcp_day)
    payloads = LandingFolder(landing).fetch("gcp_billing_export", day)
    assert len(payloads) == 3
    archive = RawArchive(str(tmp_path / "lake"))
    once = ingest_payloads(gcp_billing_export, payloads[:1], day, archive)
    all_three = ingest_payloads(gcp_billing_export, payloads, day, archive)
    assert once.rows.height == 9
    assert all_three.rows.height == once.rows.height
    assert _total(all_three.rows) == _total(once.rows)
    assert sorted(all_three.duplicates) == [
        "gcp_billing_export/2022-08-01/export.csv",
        "gcp_billing_export/20220801-20220801/billing/export.csv",
    ]


def _counting(source: types.ModuleType) -> tuple[types.SimpleNamespace, list[str]]:
    """The real source module, its parse calls recorded (the parser itself runs unchanged)."""
    calls: list[str] = []

    def parse(data: bytes, **kwargs):
        calls.append(kwargs["source_file"])
        return source.parse(data, **kwargs)

    public = {k: getattr(source, k) for k in dir(source) if not k.startswith("_")}
    return types.SimpleNamespace(**{**public, "parse": parse}), calls


def test_a_billing_period_file_is_parsed_once_and_split_by_day_with_nothing_lost(
    tmp_path, focus_month
):
    landing = tmp_path / "landing"
    _put(landing, "focus_export/20240901-20240930/focus/focus_sample.csv", focus_month)
    folder, archive = LandingFolder(landing), RawArchive(str(tmp_path / "lake"))
    source, calls = _counting(focus_export)
    cache: ParseCache = {}
    days = [
        ingest_payloads(source, folder.fetch("focus_export", d), d, archive, cache)
        for d in SEPTEMBER
    ]
    whole = focus_export.parse(focus_month, source_file="x", ingestion_key="k", fetched_at=None)
    assert calls == ["focus_export/20240901-20240930/focus/focus_sample.csv"]
    assert sum(d.rows.height for d in days) == whole.rows.height == 1000
    assert sum(d.quarantine.height for d in days) == whole.quarantine.height
    assert sum((_focus_total(d.rows) for d in days), Decimal(0)) == _focus_total(whole.rows)
    for day, ingested in zip(SEPTEMBER, days, strict=True):
        assert set(ingested.rows["x_charge_date"].to_list()) <= {day}
    archived = list((tmp_path / "lake" / "_raw_archive" / "focus_export").glob("*/*"))
    assert len(archived) == 1  # archived once, under the period's first day


def _focus_total(frame: pl.DataFrame) -> Decimal:
    return frame["BilledCost"].sum() if frame.height else Decimal(0)


def _azure_style_manifest(files: dict[str, bytes], rows: dict[str, int]) -> bytes:
    blobs = [
        {
            "blobName": f"exports/focus/20240901-20240930/run-2/{n}",
            "byteCount": len(d),
            "dataRowCount": rows[n],
        }
        for n, d in files.items()
    ]
    return json.dumps({"blobCount": len(blobs), "blobs": blobs}).encode()


def test_the_manifest_names_the_delivery_files_it_does_not_list_are_superseded(
    tmp_path, focus_month
):
    landing, day = tmp_path / "landing", dt.date(2024, 9, 3)
    export = "focus_export/20240901-20240930/focus"
    _put(landing, f"{export}/part_0_0001.csv", focus_month)
    _put(landing, f"{export}/part_0_0000-older-run.csv", focus_month.replace(b"USD", b"EUR"))
    _put(
        landing,
        f"{export}/manifest.json",
        _azure_style_manifest({"part_0_0001.csv": focus_month}, {"part_0_0001.csv": 1000}),
    )
    payloads = LandingFolder(landing).fetch("focus_export", day)
    assert [p.name for p in payloads] == [f"{export}/part_0_0001.csv"]
    assert payloads[0].vouched


def test_fewer_rows_than_the_manifest_fails_naming_the_file(tmp_path, focus_month):
    landing = tmp_path / "landing"
    export = "focus_export/20240901-20240930/focus"
    short = focus_month[: focus_month.rindex(b"\n", 0, len(focus_month) - 1) + 1]
    _put(landing, f"{export}/part_0_0001.csv", short)
    manifest = {"blobs": [{"blobName": "part_0_0001.csv", "dataRowCount": 1000}]}
    _put(landing, f"{export}/manifest.json", json.dumps(manifest).encode())
    with pytest.raises(IncompleteDeliveryError, match="part_0_0001.csv: 999 data rows, .* 1000"):
        LandingFolder(landing).fetch("focus_export", dt.date(2024, 9, 3))
    _put(
        landing,
        f"{export}/manifest.json",
        json.dumps({"blobs": [{"blobName": "part_0_0002.csv"}]}).encode(),
    )
    with pytest.raises(
        IncompleteDeliveryError, match="part_0_0002.csv: listed in .* not delivered"
    ):
        LandingFolder(landing).fetch("focus_export", dt.date(2024, 9, 3))


def test_a_cut_copy_never_replaces_the_complete_file_unless_a_manifest_vouches(
    tmp_path, focus_month
):
    landing, archive = tmp_path / "landing", RawArchive(str(tmp_path / "lake"))
    export, day = "focus_export/20240901-20240930/focus", dt.date(2024, 9, 30)
    path = _put(landing, f"{export}/focus_sample.csv", focus_month)
    ingest_payloads(focus_export, LandingFolder(landing).fetch("focus_export", day), day, archive)
    cut = focus_month[: focus_month.rindex(b"\n", 0, len(focus_month) - 1) + 1]
    path.write_bytes(cut)
    with pytest.raises(
        IncompleteDeliveryError, match="focus_sample.csv: its content is a cut copy"
    ):
        ingest_payloads(
            focus_export, LandingFolder(landing).fetch("focus_export", day), day, archive
        )
    _put(
        landing,
        f"{export}/manifest.json",
        _azure_style_manifest({"focus_sample.csv": cut}, {"focus_sample.csv": 999}),
    )
    vouched = ingest_payloads(
        focus_export, LandingFolder(landing).fetch("focus_export", day), day, archive
    )
    assert vouched.payload_names == [f"{export}/focus_sample.csv"]


@pytest.mark.slow
def test_a_day_whose_file_was_cut_is_a_failed_partition_naming_the_file(tmp_path):
    landing, lake, day = tmp_path / "landing", tmp_path / "lake", dt.date(2026, 10, 2)
    [written] = focus_export_writer.write_day(landing, day, seed=3, rows_per_day=200)

    def run() -> dg.ExecuteInProcessResult:
        with dg.instance_for_test() as instance:
            return dg.materialize(
                [build_raw_asset(focus_export)],
                partition_key=day.isoformat(),
                instance=instance,
                resources={
                    "lake": LakeResource(lake_uri=str(lake)),
                    "landing": LandingResource(landing_dir=str(landing)),
                },
                raise_on_error=False,
            )

    assert run().success
    data = written.read_bytes()
    written.write_bytes(data[: data.rindex(b"\n", 0, len(data) - 1) + 1])  # one line boundary
    result = run()
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE)
    assert f"{written.name}: its content is a cut copy" in str(failure.event_specific_data.error)
    shutil.rmtree(landing)


def test_an_undated_bad_row_of_a_period_file_is_quarantined_once_not_every_day(
    tmp_path, shared_data
):
    data = (shared_data / "koku" / "gcp" / "2024-03-01_5.csv").read_bytes()
    header, first, _ = data.decode().split("\n", 2)
    columns = next(csv.reader([header]))
    row = next(csv.reader([first]))
    row[columns.index("usage_start_time")] = "not a date"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(row)
    landing = tmp_path / "landing"
    _put(landing, "gcp_billing_export/20240201-20240301/b/f.csv", data + out.getvalue().encode())
    folder, archive = LandingFolder(landing), RawArchive(str(tmp_path / "lake"))
    period = [dt.date(2024, 2, 1) + dt.timedelta(days=n) for n in range(30)]
    cache: ParseCache = {}
    days = [
        ingest_payloads(
            gcp_billing_export, folder.fetch("gcp_billing_export", d), d, archive, cache
        )
        for d in period
    ]
    bad_line = data.decode().rstrip("\n").count("\n") + 2
    undated = [
        d
        for d in days
        for r in d.quarantine.iter_rows(named=True)
        if r["x_source_line"] == bad_line
    ]
    assert len(undated) == 1
    assert sum(d.rows.height for d in days) == 6


def test_the_run_cache_keeps_period_files_only_not_every_days_files(tmp_path, focus_month):
    """A ranged run over many large day files must not hold all of them in memory."""
    landing, day = tmp_path / "landing", dt.date(2024, 9, 1)
    _put(landing, "focus_export/2024-09-01/day.csv", focus_month)
    _put(
        landing, "focus_export/20240901-20240930/focus/period.csv", focus_month + b"\n"
    )  # other bytes
    cache: ParseCache = {}
    payloads = LandingFolder(landing).fetch("focus_export", day)
    ingest_payloads(focus_export, payloads, day, RawArchive(str(tmp_path / "lake")), cache)
    assert len(payloads) == 2
    assert [a.archived.endswith("__period.csv") for a in cache.values()] == [True]
