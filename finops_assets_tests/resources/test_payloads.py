"""The landing folder: stable order, clear errors, no escapes from the folder."""

import datetime as dt

import pytest

from finops_assets.resources.payloads import LandingError, LandingFolder

DAY = dt.date(2026, 10, 1)


def test_payloads_of_a_day_in_name_order(tmp_path):
    folder = tmp_path / "aws_cur" / "2026-10-01"
    folder.mkdir(parents=True)
    (folder / "b.csv").write_bytes(b"2")
    (folder / "a.csv").write_bytes(b"1")
    payloads = LandingFolder(tmp_path).fetch("aws_cur", DAY)
    assert [p.name for p in payloads] == ["aws_cur/2026-10-01/a.csv", "aws_cur/2026-10-01/b.csv"]
    assert payloads[0].data == b"1"


def test_a_day_without_files_is_empty(tmp_path):
    assert LandingFolder(tmp_path).fetch("aws_cur", DAY) == []


def test_missing_landing_folder_says_what_to_do(tmp_path):
    with pytest.raises(LandingError, match="make demo"):
        LandingFolder(tmp_path / "nope").fetch("aws_cur", DAY)


def test_symlink_out_of_the_landing_folder_is_refused(tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_text("x")
    folder = tmp_path / "landing" / "aws_cur" / "2026-10-01"
    folder.mkdir(parents=True)
    (folder / "link.csv").symlink_to(secret)
    with pytest.raises(LandingError, match="outside the landing folder"):
        LandingFolder(tmp_path / "landing").fetch("aws_cur", DAY)


def test_unexpected_file_names_are_refused(tmp_path):
    folder = tmp_path / "aws_cur" / "2026-10-01"
    folder.mkdir(parents=True)
    (folder / "bad name;rm.csv").write_bytes(b"x")
    with pytest.raises(LandingError, match="expected pattern"):
        LandingFolder(tmp_path).fetch("aws_cur", DAY)
