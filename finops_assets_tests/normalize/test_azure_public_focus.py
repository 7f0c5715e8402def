"""The public Azure export rows, normalized, pass the focus-validator (real, in .venv-focus).

EA actual and amortized (FinOps toolkit) and MCA actual (koku) go through parse, to_focus and
normalize_costs with the shipped ECB rates, then the FOCUS 1.2 validator: every rule passes but
InvoiceId-C-005-C, which no dataset can pass (README "FOCUS conformance"). Before the Azure
conversion followed Microsoft's rules these rows also failed BillingAccountId-C-000-M/-C-001-M.
"""

import datetime as dt

import polars as pl
import pytest

from finops_assets.conformance.check import expected_failures
from finops_assets.conformance.export import write_focus_dataset
from finops_assets.conformance.validator import run_focus_validator
from finops_assets.domain.sources import azure_cost
from finops_assets_tests.normalized_days import normalized_in_usd
from finops_assets_tests.tools import require_tool

pytestmark = pytest.mark.slow

FILES = (
    "finops-toolkit/exports/EA_ActualCost_Small.csv",
    "finops-toolkit/exports/EA_AmortizedCost_Small.csv",
    "koku/azure/camel_azure_version_2.csv",
)
FETCHED = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


def _normalized(shared_data) -> pl.DataFrame:
    frames = []
    for relative in FILES:
        path = shared_data / relative
        parsed = azure_cost.parse(
            path.read_bytes(), source_file=path.name, ingestion_key=path.name, fetched_at=FETCHED
        )
        frames += normalized_in_usd(azure_cost.to_focus(parsed.rows))
    return pl.concat(frames)


def test_public_azure_rows_pass_every_rule_but_invoice_id(shared_data, tmp_path):
    require_tool("focus-validator")
    rows = _normalized(shared_data)
    assert rows.height == 11 + 28 + 4
    assert rows["PricingQuantity"].null_count() == 0
    report = run_focus_validator(write_focus_dataset(rows, tmp_path / "azure-public.parquet"))
    assert report.total > 500 and report.passed > 100
    assert set(report.failed_rules) == expected_failures("azure_cost-azure"), report.failed_rules
