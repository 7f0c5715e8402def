"""`finops inspect` reports what the whole pipeline would quarantine, and prints no raw bytes.

Real public files through the real parsers, normalization and the shipped ECB seed (the ECB
feed is switched off: inspect never needs the network for days the seed covers).
"""

import shutil

import pytest

from finops_assets.cli import main


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("FINOPS_ECB_BASE_URL", "off")


def test_an_azure_file_in_currency_mc_is_all_quarantined_at_normalize(shared_data, capsys):
    assert main(["inspect", str(shared_data / "koku/azure/azure_version_2.csv")]) == 0
    out = capsys.readouterr().out
    assert "would be quarantined: 5 rows (parse: 0, normalize: 5)" in out
    assert "unknown currency code 'MC'" in out
    assert "would FAIL check_quarantined_money" in out


def test_a_clean_file_is_within_every_limit(shared_data, capsys):
    assert main(["inspect", str(shared_data / "koku/gcp/2022-08-01_5.csv")]) == 0
    out = capsys.readouterr().out
    assert "would be quarantined: 0 rows" in out
    assert "FX to USD: every currency has a rate" in out
    assert "every charge day within limits" in out
    assert "FAIL" not in out


def test_a_day_before_the_offline_seed_waits_for_its_rate(shared_data, capsys):
    """koku's CUR is of 2018-06-01; the shipped seed starts in 2020 and the feed is off."""
    assert main(["inspect", str(shared_data / "koku/aws/test_cur.csv")]) == 0
    out = capsys.readouterr().out
    assert "no ECB rate for EUR, USD on 2018-06-01" in out
    assert "normalized_costs would wait for it (rows not quarantined)" in out
    assert "would be quarantined: 0 rows" in out


def test_a_day_without_fx_rate_is_reported(shared_data, tmp_path, capsys):
    source = (shared_data / "koku/gcp/2022-08-01_5.csv").read_text()
    path = tmp_path / "gcp.csv"
    path.write_text(source.replace(",USD,", ",XAU,"))
    assert main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out
    assert "no ECB rate for XAU" in out or "unknown currency code 'XAU'" in out
    assert "normalize: 9" in out


@pytest.mark.parametrize(
    "garbage",
    [
        bytes(range(256)) * 8,
        b"BilledCost,EffectiveCost\n\x1b[31m\x00\x07,\xff\xfe\n",
        b"\x1f\x8b\x08\x00garbage-not-gzip\x00\x01",
    ],
)
def test_inspect_never_prints_raw_bytes(tmp_path, capsys, garbage):
    path = tmp_path / "garbage.csv"
    path.write_bytes(garbage)
    main(["inspect", str(path)])
    captured = capsys.readouterr()
    for text in (captured.out, captured.err):
        assert all(c.isprintable() or c == "\n" for c in text), repr(text)
        assert len(text) < 2_000


def test_the_shared_sample_copy_is_inspected_the_same_way(shared_data, tmp_path, capsys):
    path = tmp_path / "copy.csv"
    shutil.copy(shared_data / "focus-sample-data/FOCUS-1.0/focus_sample.csv", path)
    assert main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out
    assert ": focus_export (" in out
    assert "quarantine limits:" in out
