"""The whole sample estate: deterministic, idempotent on disk, every source and currency present."""

import datetime as dt
import hashlib

import pytest

from finops_assets.sample.generate import SOURCE_WRITERS, generate_estate

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
            assert any((landing / source / day).iterdir()), (source, day)


def test_a_different_seed_gives_different_bills(tmp_path):
    generate_estate(tmp_path / "a", START, 1, seed=1, rows_per_day=300)
    generate_estate(tmp_path / "b", START, 1, seed=2, rows_per_day=300)
    assert _digest(tmp_path / "a") != _digest(tmp_path / "b")
