"""The `finops` command line on real files: inspect on public samples, clear errors."""

import shutil

import pytest

from finops_assets.cli import main

SAMPLES = {
    "focus-sample-data/FOCUS-1.0/focus_sample.csv": "focus_export",
    "koku/aws/test_cur.csv": "aws_cur",
    "koku/gcp/2024-03-01_5.csv": "gcp_billing_export",
    "aws-cost-explorer/aws-cli_get-cost-and-usage_groupby-SERVICE-and-TAG_example-output.json": "aws_cost_explorer",
    "azure-cost-management-query/BillingAccountQueryGrouping.json": "azure_cost",
}


@pytest.mark.parametrize(("relative", "fmt"), sorted(SAMPLES.items()))
def test_inspect_detects_parses_and_totals_public_samples(shared_data, capsys, relative, fmt):
    assert main(["inspect", str(shared_data / relative)]) == 0
    out = capsys.readouterr().out
    assert f": {fmt} (" in out
    assert "billed totals per currency" in out
    assert "would be quarantined: 0 rows" in out


def test_inspect_reports_what_would_be_quarantined(shared_data, tmp_path, capsys):
    source = shared_data / "koku/aws/test_cur.csv"
    lines = source.read_text().splitlines()
    header = lines[0].split(",")
    cost = header.index("lineItem/UnblendedCost")
    broken = lines[1].split(",")
    broken[cost] = "twelve"
    path = tmp_path / "cur.csv"
    path.write_text("\n".join([lines[0], ",".join(broken), *lines[2:]]) + "\n")
    assert main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out
    assert "rows parsed: 18" in out
    assert "would be quarantined: 1 rows" in out
    assert "line_item_unblended_cost" in out


def test_inspect_of_a_non_billing_file_is_one_clear_error(shared_data, tmp_path, capsys):
    path = tmp_path / "rates.csv"
    shutil.copy(shared_data / "reference-fx-currency/ecb-eurofxref-daily.csv", path)
    assert main(["inspect", str(path)]) == 2
    err = capsys.readouterr().err
    assert "not a billing file we recognise" in err
    assert "Traceback" not in err


def test_inspect_of_a_missing_file(tmp_path, capsys):
    assert main(["inspect", str(tmp_path / "nope.csv")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_demo_refuses_days_outside_the_partitions(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FINOPS_HOME", str(tmp_path))
    assert main(["demo", "--start", "1999-01-01", "--days", "2"]) == 2
    err = capsys.readouterr().err
    assert "not a day of the daily partitions" in err
    assert not (tmp_path / "lake").exists()


def test_unknown_lake_scheme_is_one_clear_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FINOPS_HOME", str(tmp_path))
    monkeypatch.setenv("FINOPS_LAKE_URI", "ftp://x/lake")
    assert main(["demo", "--days", "1"]) == 2
    assert "unknown scheme 'ftp'" in capsys.readouterr().err
