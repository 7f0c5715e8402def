"""Format detection on every public billing sample, on compressed and columnar forms, and refusals."""

import gzip
import io
import json
import zlib
from pathlib import Path

import polars as pl
import pytest

from finops_assets.domain.sources import detect
from finops_assets.domain.sources.common import SourceFormatError

COMMITMENTS = "focus-spec-examples/commitment_discount_scenarios_index"
BILLING_FILES = {
    "focus-sample-data/FOCUS-1.0/focus_sample.csv": "focus_export",
    f"{COMMITMENTS}/aws_savings_plan_all_upfront_50pct.csv": "focus_export",
    f"{COMMITMENTS}/aws_savings_plan_partial_upfront_100pct.csv": "focus_export",
    f"{COMMITMENTS}/azure_reservation_all_upfront_100pct.csv": "focus_export",
    f"{COMMITMENTS}/gcp_flex_cud_partial_upfront_100pct.csv": "focus_export",
    "koku/aws/test_cur.csv": "aws_cur",
    "koku/gcp/2022-08-01_5.csv": "gcp_billing_export",
    "koku/gcp/2024-03-01_5.csv": "gcp_billing_export",
    "koku/azure/azure_version_2.csv": "azure_cost",
    "aws-cost-explorer/aws-cli_get-cost-and-usage_groupby-SERVICE-and-TAG_example-output.json": (
        "aws_cost_explorer"
    ),
    "aws-cost-explorer/cloudscape_get-cost-and-usage_groupby-SERVICE_monthly_2023-04_to_2023-10.json": (
        "aws_cost_explorer"
    ),
    "azure-cost-management-query/BillingAccountQuery.json": "azure_cost",
    "azure-cost-management-query/BillingAccountQueryGrouping.json": "azure_cost",
    "azure-cost-management-query/MCABillingProfileQueryGrouping.json": "azure_cost",
}
NOT_BILLING = [
    "reference-fx-currency/ecb-eurofxref-daily.csv",
    "reference-fx-currency/iso4217-list-one.csv",
    "koku/ocp/e6b3701e-1e91-433b-b238-a31e49937558_storage.csv",
    "finops-toolkit/open-data/Services.csv",
    "finops-toolkit/export-schemas/focuscost_1.2.json",
    "finops-toolkit/open-data/ResourceTypes.Overrides.json",
]


@pytest.mark.parametrize(("relative", "expected"), sorted(BILLING_FILES.items()))
def test_public_billing_samples_are_recognised(
    shared_data: Path, relative: str, expected: str
) -> None:
    path = shared_data / relative
    assert detect.detect_format(path.read_bytes(), path.name) == expected


@pytest.mark.parametrize(("relative", "expected"), sorted(BILLING_FILES.items()))
def test_gzipped_samples_are_recognised(shared_data: Path, relative: str, expected: str) -> None:
    data = gzip.compress((shared_data / relative).read_bytes(), mtime=0)
    assert detect.detect_format(data, relative + ".gz") == expected


@pytest.mark.parametrize("relative", NOT_BILLING)
def test_other_files_are_refused_naming_what_was_seen(shared_data: Path, relative: str) -> None:
    path = shared_data / relative
    with pytest.raises(SourceFormatError) as raised:
        detect.detect_format(path.read_bytes(), path.name)
    message = str(raised.value)
    assert message.startswith(f"{path.name}: not a billing file we recognise: ")
    assert "columns seen" in message or "top-level keys" in message


def test_ecb_rates_message_lists_its_columns(shared_data: Path) -> None:
    path = shared_data / "reference-fx-currency/ecb-eurofxref-daily.csv"
    with pytest.raises(SourceFormatError, match=r"columns seen: Date, USD, JPY"):
        detect.detect_format(path.read_bytes(), path.name)


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (["BilledCost", "ChargePeriodStart", "BillingCurrency", "x_Extra"], "focus_export"),
        (
            ["bill_payer_account_id", "line_item_unblended_cost", "line_item_usage_amount"],
            "aws_cur",
        ),
        (["billing_account_id", "usage_start_time", "cost", "currency"], None),
        (["CostInBillingCurrency", "SubscriptionId", "MeterCategory"], "azure_cost"),
        (["subscriptionGuid", "preTaxCost", "meterId"], "azure_cost"),
    ],
)
def test_parquet_schema_alone_decides(columns: list[str], expected: str | None) -> None:
    buffer = io.BytesIO()
    pl.DataFrame({c: ["1"] for c in columns}).write_parquet(buffer)
    if expected is None:
        with pytest.raises(SourceFormatError, match="Parquet schema"):
            detect.detect_format(buffer.getvalue(), "x.parquet")
    else:
        assert detect.detect_format(buffer.getvalue(), "x.parquet") == expected


def test_gcp_parquet_with_service_struct() -> None:
    frame = pl.DataFrame(
        {
            "billing_account_id": ["01A2B3"],
            "service": [{"id": "6F81", "description": "Compute Engine"}],
            "usage_start_time": ["2024-01-01T00:00:00Z"],
            "cost": ["1.5"],
        }
    )
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    assert detect.detect_format(buffer.getvalue(), "gcp.parquet") == "gcp_billing_export"


def test_gzip_bomb_is_only_inflated_up_to_the_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    """64 MiB of zeros after a CSV header: detection inflates at most MAX_PREFIX_BYTES of it."""
    inflated: list[int] = []
    real = zlib.decompressobj

    class Spy:
        def __init__(self, **kwargs: int) -> None:
            self.inner = real(**kwargs)

        def decompress(self, data: bytes, max_length: int = 0) -> bytes:
            out = self.inner.decompress(data, max_length)
            inflated.append(len(out))
            return out

    monkeypatch.setattr(detect.zlib, "decompressobj", Spy)
    header = b"BilledCost,ChargePeriodStart,BillingCurrency\n"
    bomb = gzip.compress(header + b"0" * (64 << 20), compresslevel=9, mtime=0)
    assert detect.detect_format(bomb, "bomb.csv.gz") == "focus_export"
    assert sum(inflated) <= detect.MAX_PREFIX_BYTES


def test_empty_corrupt_and_non_object_inputs_are_refused() -> None:
    with pytest.raises(SourceFormatError, match="empty"):
        detect.detect_format(b"  \n", "empty.csv")
    with pytest.raises(SourceFormatError, match="corrupt gzip"):
        detect.detect_format(b"\x1f\x8bnot really gzip", "broken.csv.gz")
    with pytest.raises(SourceFormatError, match="unreadable Parquet"):
        detect.detect_format(b"PAR1garbage", "broken.parquet")
    with pytest.raises(SourceFormatError, match="JSON list"):
        detect.detect_format(json.dumps([1, 2]).encode(), "list.json")


def test_azure_query_page_and_cost_explorer_page() -> None:
    azure = {"properties": {"nextLink": None, "columns": [], "rows": []}}
    assert detect.detect_format(json.dumps(azure).encode(), "page-0001.json") == "azure_cost"
    ce = {"ResultsByTime": [], "NextPageToken": "abc"}
    assert detect.detect_format(json.dumps(ce).encode(), "page-0001.json") == "aws_cost_explorer"
