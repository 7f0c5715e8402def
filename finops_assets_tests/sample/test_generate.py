"""The whole sample estate: deterministic, idempotent on disk, every source and currency present."""

import datetime as dt
import hashlib
import json

import pytest

from finops_assets.domain.deliveries import check_against_manifest, read_manifest
from finops_assets.resources.payloads import LandingFolder
from finops_assets.sample.generate import SOURCE_WRITERS, day_files, generate_estate

START = dt.date(2026, 10, 1)


def _digest(folder):
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.slow
def test_same_seed_same_bytes_in_two_folders(tmp_path):
    generate_estate(tmp_path / "a" / "landing", START, 2, seed=7, rows_per_day=300)
    generate_estate(tmp_path / "b" / "landing", START, 2, seed=7, rows_per_day=300)
    assert _digest(tmp_path / "a" / "landing") == _digest(tmp_path / "b" / "landing")


@pytest.mark.slow
def test_a_second_run_changes_nothing_on_disk(tmp_path):
    landing = tmp_path / "landing"
    first = generate_estate(landing, START, 2, rows_per_day=300)
    mtimes = {p: p.stat().st_mtime_ns for p in landing.rglob("*") if p.is_file()}
    second = generate_estate(landing, START, 2, rows_per_day=300)
    assert first.changed > 0 and second.changed == 0
    assert mtimes == {p: p.stat().st_mtime_ns for p in landing.rglob("*") if p.is_file()}


def test_every_source_writes_every_day(tmp_path):
    landing = tmp_path / "landing"
    generate_estate(landing, START, 2, rows_per_day=300)
    for source in SOURCE_WRITERS:
        for day in ("2026-10-01", "2026-10-02"):
            assert day_files(landing, source, dt.date.fromisoformat(day)), (source, day)


def test_a_different_seed_gives_different_bills(tmp_path):
    generate_estate(tmp_path / "a", START, 1, seed=1, rows_per_day=300)
    generate_estate(tmp_path / "b", START, 1, seed=2, rows_per_day=300)
    assert _digest(tmp_path / "a") != _digest(tmp_path / "b")


def test_exports_land_in_their_providers_billing_period_layout(tmp_path):
    """CUR 2.0 parts per BILLING_PERIOD with a manifest; GCP and OCI FOCUS files per month;
    API pages and usage stay in day folders. A window across two months: two deliveries."""
    landing = tmp_path / "landing"
    generate_estate(landing, dt.date(2026, 10, 30), 3, rows_per_day=300)
    periods = {p.name for p in (landing / "aws_cur").iterdir()}
    assert periods == {"20261030-20261031", "20261101-20261101"}
    for source in ("gcp_billing_export", "focus_export"):
        assert {p.name for p in (landing / source).iterdir()} == periods, source
        assert not list((landing / source).glob("*/*.json")), "GCP and OCI write no manifest"
    folder = landing / "aws_cur" / "20261030-20261031" / "acme-cur2-csv"
    assert sorted(p.name for p in folder.iterdir()) == [
        "acme-cur2-csv-00030.csv.gz",
        "acme-cur2-csv-00031.csv.gz",
        "acme-cur2-csv-Manifest.json",
    ]
    raw = (folder / "acme-cur2-csv-Manifest.json").read_bytes()
    manifest = read_manifest(raw, "acme-cur2-csv-Manifest.json")
    check_against_manifest(manifest, {p.name: p.read_bytes() for p in folder.glob("*.csv.gz")})
    assert json.loads(raw)["dataFiles"][0].endswith(
        "/acme-cur2-csv/data/BILLING_PERIOD=2026-10/acme-cur2-csv-00030.csv.gz"
    )
    for source in ("azure_cost", "aws_cost_explorer", "k8s_usage", "utilization"):
        assert (landing / source / "2026-10-31").is_dir(), source
    # the landing folder reads the day's rows from the period deliveries
    names = [p.name for p in LandingFolder(landing).fetch("aws_cur", dt.date(2026, 10, 31))]
    assert names == [
        "aws_cur/20261030-20261031/acme-cur2-csv/acme-cur2-csv-00030.csv.gz",
        "aws_cur/20261030-20261031/acme-cur2-csv/acme-cur2-csv-00031.csv.gz",
        "aws_cur/20261030-20261031/acme-cur2-parquet/acme-cur2-parquet-00030.snappy.parquet",
        "aws_cur/20261030-20261031/acme-cur2-parquet/acme-cur2-parquet-00031.snappy.parquet",
    ]


def test_a_next_day_makes_the_month_to_date_delivery_and_supersedes_the_old_one(tmp_path):
    landing = tmp_path / "landing"
    generate_estate(landing, START, 2, rows_per_day=300)
    before = _digest(landing / "gcp_billing_export" / "20261001-20261002")
    generate_estate(landing, START + dt.timedelta(days=2), 1, rows_per_day=300)
    for source in ("aws_cur", "gcp_billing_export", "focus_export"):
        assert [p.name for p in (landing / source).iterdir()] == ["20261001-20261003"], source
    after = _digest(landing / "gcp_billing_export" / "20261001-20261003")
    assert {k: v for k, v in after.items() if k in before} == before  # earlier days unchanged
    assert len(after) == len(before) + 2
    manifest = landing / "aws_cur" / "20261001-20261003" / "acme-cur2-parquet"
    listed = json.loads((manifest / "acme-cur2-parquet-Manifest.json").read_text())["dataFiles"]
    assert [uri.rsplit("/", 1)[1] for uri in listed] == [
        f"acme-cur2-parquet-{n:05d}.snappy.parquet" for n in (1, 2, 3)
    ]


def test_day_folders_of_an_export_source_are_replaced_by_the_period_delivery(tmp_path):
    """A landing folder from the older per-day layout: its export days are not kept twice."""
    landing = tmp_path / "landing"
    old = landing / "focus_export" / "2026-10-01"
    old.mkdir(parents=True)
    (old / "focus-oci-2026-10-01.csv").write_text("stale\n")
    generate_estate(landing, START, 1, rows_per_day=300)
    assert not old.exists()
    assert [p.parent.parent.name for p in day_files(landing, "focus_export", START)] == [
        "20261001-20261001"
    ]
