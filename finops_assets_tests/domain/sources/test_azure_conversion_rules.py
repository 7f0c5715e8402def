"""Edge cases of the Azure FOCUS conversion beyond the public rows (test_azure_focus_fidelity)."""

import datetime as dt
import json
from decimal import Decimal

import pytest

from finops_assets.domain.sources import azure_cost
from finops_assets.domain.sources.azure_reference import pricing_units, resource_type

FETCHED = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
COLUMNS = [
    "UsageDate",
    "Cost",
    "Currency",
    "ChargeType",
    "PricingModel",
    "Quantity",
    "UnitOfMeasure",
    "BillingAccountId",
    "BillingProfileId",
    "ConsumedService",
    "ResourceId",
    "Frequency",
]
VM = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/vm1"


def _page(*rows: list[object]) -> bytes:
    return json.dumps(
        {
            "properties": {
                "columns": [{"name": c, "type": "String"} for c in COLUMNS],
                "rows": [list(r) for r in rows],
            }
        }
    ).encode()


def _row(**over: object) -> list[object]:
    base: dict[str, object] = {
        "UsageDate": 20261001,
        "Cost": "1.5",
        "Currency": "EUR",
        "ChargeType": "Usage",
        "PricingModel": "OnDemand",
        "Quantity": "3",
        "UnitOfMeasure": "1 Hour",
        "BillingAccountId": "8611537",
        "BillingProfileId": "8611537",
        "ConsumedService": "Microsoft.Compute",
        "ResourceId": VM,
        "Frequency": "UsageBased",
    }
    base.update(over)
    return [base[c] for c in COLUMNS]


def _focus(*rows: list[object]):
    parsed = azure_cost.parse(
        _page(*rows), source_file="p.json", ingestion_key="k", fetched_at=FETCHED
    )
    return parsed, azure_cost.to_focus(parsed.rows).to_dicts()


def test_a_quantity_without_its_unit_gives_no_pricing_quantity():
    _, rows = _focus(_row(UnitOfMeasure=None), _row(Quantity=None))
    for row in rows:
        assert (row["PricingQuantity"], row["PricingUnit"]) == (None, None)
        assert (row["ConsumedQuantity"], row["ConsumedUnit"]) == (None, None)


def test_a_unit_microsoft_does_not_list_keeps_its_text_with_block_size_one():
    _, (row,) = _focus(_row(UnitOfMeasure="7 Widgets"))
    assert (row["PricingQuantity"], row["PricingUnit"]) == (Decimal(3), "7 Widgets")


def test_a_block_size_that_does_not_divide_evenly_rounds_half_up_at_10_decimals():
    assert pricing_units().filter(unit_of_measure="744 Connections")["x_block_size"].item() == 744
    _, (row,) = _focus(_row(Quantity="1", UnitOfMeasure="744 Connections"))
    assert row["PricingQuantity"] == Decimal("0.0013440860")  # 1/744 = 0.00134408602...
    assert row["PricingUnit"] == "Connections"


def test_an_unreadable_quantity_is_quarantined_with_its_cost():
    parsed, _ = _focus(_row(Quantity="three"))
    assert parsed.rows.is_empty()
    (bad,) = parsed.quarantine.to_dicts()
    assert (bad["x_column"], bad["x_reason"], bad["x_amount"]) == (
        "Quantity",
        "invalid quantity: three",
        "1.5",
    )


def test_mca_rows_are_billed_to_the_billing_profile():
    _, (row,) = _focus(_row(BillingAccountId="acct:guid_2019-05-31", BillingProfileId="AB12-CD"))
    assert (row["BillingAccountId"], row["BillingAccountType"]) == ("AB12-CD", "Billing Profile")


def test_unused_reservation_is_usage_without_consumed_quantity():
    _, (row,) = _focus(_row(ChargeType="UnusedReservation", PricingModel="Reservation"))
    assert row["ChargeCategory"] == "Usage"
    assert row["ConsumedQuantity"] is None and row["PricingQuantity"] == 3
    assert row["BilledCost"] == Decimal("1.5")  # unused commitment is billed, not covered usage


def test_a_frequency_focus_does_not_know_falls_back_to_the_charge_category():
    _, rows = _focus(_row(Frequency="Sometimes"), _row(Frequency="OneTime", ChargeType="Purchase"))
    assert [r["ChargeFrequency"] for r in rows] == ["Usage-Based", "One-Time"]


@pytest.mark.parametrize(
    ("resource_id", "expected"),
    [
        (VM, "Microsoft.Compute/virtualMachines"),
        (VM + "/extensions/ext", "Microsoft.Compute/virtualMachines/extensions"),
        (
            "/providers/Microsoft.Capacity/reservationOrders/o/reservations/",
            "Microsoft.Capacity/reservationOrders",
        ),
        (
            "/SUBSCRIPTIONS/S/RESOURCEGROUPS/G/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/V",
            "MICROSOFT.KEYVAULT/VAULTS",
        ),
        ("/subscriptions/s/resourceGroups/g", "Microsoft.Resources/subscriptions/resourceGroups"),
        ("", None),
        (None, None),
    ],
)
def test_resource_type_is_split_azure_resource_ids(resource_id, expected):
    assert resource_type(resource_id) == expected
