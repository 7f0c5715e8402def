"""`finops load` of koku's public AWS, Azure and GCP export files, one test per file: per day and
currency, file total = normalized + quarantined, exactly (the command's own reconciliation),
every charge day of the file is in the report, and per day the file's rows (counted here with
csv) = normalized + quarantined rows: koku's 2024 GCP file costs 0 on every row, so only the row
counts prove that none was lost.

A file whose charge days lie apart is loaded as windows of consecutive days, every row kept
(public_loads.day_windows): the load then runs its charge days, not the empty days between them.
"""

import pytest

from finops_assets_tests.public_loads import (
    charge_days,
    csv_rows_per_day,
    day_windows,
    load_with_real_fx,
    reported_days,
    reported_rows,
)

KOKU = {
    "koku/aws/test_cur.csv": "lineItem/UsageStartDate",
    "koku/azure/azure_version_2.csv": "Date",
    "koku/gcp/2022-08-01_5.csv": "usage_start_time",
    "koku/gcp/2024-03-01_5.csv": "usage_start_time",
}


@pytest.mark.slow
@pytest.mark.parametrize("public_file", sorted(KOKU))
def test_a_koku_export_reconciles_per_day_and_currency(tmp_path, shared_data, public_file):
    path, day_column = shared_data / public_file, KOKU[public_file]
    windows = day_windows(path, day_column, tmp_path / "files")
    report = load_with_real_fx(tmp_path / "home", windows, shared_data)
    assert reported_days(report) == charge_days(path, day_column)
    credits = "credits" if public_file.startswith("koku/gcp") else None
    rows = reported_rows(report)
    assert {day: counts[0] for day, counts in rows.items()} == csv_rows_per_day(
        path, day_column, credits
    )
    assert all(
        file == kept + put_aside and not diff for file, kept, put_aside, diff in rows.values()
    )
    if public_file.startswith("koku/azure"):
        # koku bills these rows in 'MC', not an ISO currency: quarantined with their amounts
        assert "normalized_costs: 1 x unknown currency code 'MC' in BillingCurrency" in report
