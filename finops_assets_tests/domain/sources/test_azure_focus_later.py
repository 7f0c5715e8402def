"""Azure rows fill the FOCUS 1.1-1.2 columns as Microsoft's conversion does (convert.md).

The public EA export rows hold an unused capacity reservation, a reservation-covered scale set
row with instance size flexibility (RINormalizationRatio 2) and a savings-plan-covered row; the
column-by-column comparison is in test_azure_focus_fidelity.py, these pin the figures.
"""

import csv
import io
import json
from decimal import Decimal

from finops_assets.domain.sources import azure_cost
from finops_assets_tests.domain.sources.test_azure_focus_fidelity import (
    FETCHED,
    FILES,
    _differences,
    _ours,
)


def test_only_the_purchase_row_differs_in_commitment_unit(shared_data):
    """The accepted CommitmentDiscountUnit difference is the one reservation purchase row."""
    diffs = _differences(shared_data, "ea-actual")["CommitmentDiscountUnit"]
    assert diffs == [(2, "Hours", None)]
    for name in ("ea-amortized", "mca-actual"):
        assert "CommitmentDiscountUnit" not in _differences(shared_data, name)


def test_capacity_reservation_and_commitment_quantities_of_the_public_rows(shared_data):
    actual = _ours(shared_data / FILES["ea-actual"])
    amortized = _ours(shared_data / FILES["ea-amortized"])
    unused = actual[3]  # billed to the capacity reservation resource itself
    assert (unused["CapacityReservationId"], unused["CapacityReservationStatus"]) == (
        "f8b42087-c198-4ad8-8515-fce989cc5fff",
        "Unused",
    )
    reserved, planned = amortized[0], amortized[1]
    assert (reserved["CommitmentDiscountQuantity"], reserved["CommitmentDiscountUnit"]) == (
        Decimal(16),
        "Normalized Hours",
    )  # 8 hours x RINormalizationRatio 2.0
    assert planned["CommitmentDiscountQuantity"] == planned["EffectiveCost"] > 0
    assert planned["CommitmentDiscountUnit"] == "USD"
    details = json.loads(reserved["SkuPriceDetails"], parse_float=Decimal)
    assert details["x_RINormalizationRatio"] == Decimal("2.0")
    assert details["x_VCPUs"] == 2
    assert [r["CapacityReservationStatus"] for r in amortized if r["CapacityReservationId"]] == [
        "Unused"
    ]


def _mca(**cells: str) -> bytes:
    base = {
        "billingAccountId": "acc",
        "billingProfileId": "prof",
        "date": "2024-05-01",
        "subscriptionId": "sub",
        "chargeType": "Usage",
        "costInBillingCurrency": "9.20",
        "billingCurrency": "EUR",
        "pricingCurrency": "USD",
        "exchangeRatePricingToBilling": "0.92",
        "pricingModel": "SavingsPlan",
        "benefitId": "/providers/Microsoft.BillingBenefits/savingsPlanOrders/o/savingsPlans/p",
        "quantity": "1",
        "unitOfMeasure": "1 Hour",
        "additionalInfo": "",
    } | cells
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows([list(base), list(base.values())])
    return out.getvalue().encode()


def _parse(data: bytes):
    return azure_cost.parse(data, source_file="mca.csv", ingestion_key="k", fetched_at=FETCHED)


def test_mca_savings_plan_quantity_is_in_the_pricing_currency():
    """Spend commitments: EffectiveCost / ExchangeRatePricingToBilling, unit PricingCurrency."""
    row = azure_cost.to_focus(_parse(_mca()).rows).row(0, named=True)
    assert (row["BillingCurrency"], row["PricingCurrency"]) == ("EUR", "USD")
    assert row["CommitmentDiscountQuantity"] == Decimal(10)  # 9.20 EUR / 0.92
    assert row["CommitmentDiscountUnit"] == "USD"
    assert row["EffectiveCost"] == Decimal("9.20")


def test_unreadable_additional_info_and_rate_are_quarantined_with_their_column():
    bad_info = _parse(_mca(additionalInfo="not json"))
    bad_rate = _parse(_mca(exchangeRatePricingToBilling="n/a"))
    for result, column in (
        (bad_info, "AdditionalInfo"),
        (bad_rate, "ExchangeRatePricingToBilling"),
    ):
        assert result.rows.is_empty()
        assert result.quarantine["x_column"].to_list() == [column]
        assert result.quarantine["x_amount"].to_list() == ["9.20"]
        assert result.quarantine["x_source_line"].to_list() == [2]


def test_sku_price_details_keep_the_values_as_sent():
    """Property names prefixed x_, numbers as written (2.0 stays 2.0), nested values kept."""
    info = '{"VCPUs":2,"RINormalizationRatio":2.0,"AHB":"True","N":{"a":[1,0.50]}}'
    row = azure_cost.to_focus(_parse(_mca(additionalInfo=info)).rows).row(0, named=True)
    assert row["SkuPriceDetails"] == (
        '{"x_VCPUs":2,"x_RINormalizationRatio":2.0,"x_AHB":"True","x_N":{"a":[1,0.50]}}'
    )


def test_the_public_rows_pass_the_normalized_contract(shared_data):
    """With the new columns filled, the 43 rows still pass normalized_costs' pandera contract."""
    from finops_assets.normalize.checks import NORMALIZED_SCHEMA
    from finops_assets_tests.fidelity.compare import normalized_rows

    for name in sorted(FILES):
        path = shared_data / FILES[name]
        parsed = _parse_file(path)
        NORMALIZED_SCHEMA.validate(normalized_rows(azure_cost.to_focus(parsed.rows)))


def _parse_file(path):
    return azure_cost.parse(
        path.read_bytes(), source_file=path.name, ingestion_key="k", fetched_at=FETCHED
    )


def test_readme_azure_table_names_every_accepted_difference():
    """README "FOCUS fidelity: Azure" names each ACCEPTED column (CommitmentDiscountUnit too)."""
    from finops_assets_tests.domain.sources.test_azure_focus_fidelity import ACCEPTED
    from finops_assets_tests.fidelity.readme import fidelity_section

    section = fidelity_section("Azure")
    table = [line for line in section.splitlines() if line.startswith("| ")]
    for column in ACCEPTED:
        assert any(column in line.split("|")[1] for line in table), column
