"""FOCUS export files of every version 1.0 to 1.4 as input: each column mapped or kept, none lost.

The 1.0 file is the public FOCUS sample (public_data/focus-sample-data, 1,000 rows). The 1.1 to
1.4 files are built from it by the specification's own column lists:
- 1.1 and 1.2 add the columns of FOCUS_Spec tags v1.1 and v1.2
  (specification/columns/columns.mdpp; FinOps-Open-Cost-and-Usage-Spec/FOCUS_Spec);
- 1.3 adds ServiceProviderName, HostProviderName, ContractApplied and the five Allocated*
  columns, and deprecates ProviderName and PublisherName; 1.4 removes those two (FOCUS_Spec,
  specification/appendix "Version Migration Guidance", "Migrating from FOCUS 1.2 to FOCUS 1.3").
  InvoiceDetailId is added too, as a column a newer export may carry.
The participating entities follow that guide's scenario table (direct purchase: service and
host provider are the provider; Marketplace: the seller is the service provider, the cloud the
host and the invoice issuer).
"""

import csv
import datetime as dt
import io
import json
from decimal import Decimal

import polars as pl
import pytest

from finops_assets.domain.sources import focus_export

FETCHED = dt.datetime(2024, 10, 2, tzinfo=dt.UTC)
ADDED = {
    "1.1": {
        "CapacityReservationId": "",
        "CapacityReservationStatus": "",
        "CommitmentDiscountQuantity": "",
        "CommitmentDiscountUnit": "",
        "ServiceSubcategory": "",
        "SkuMeter": "Usage",
        "SkuPriceDetails": '{"x_Tier": 1}',
    },
    "1.2": {
        "BillingAccountType": "Billing Account",
        "InvoiceId": "INV-2024-09",
        "PricingCurrency": "USD",
        "PricingCurrencyContractedUnitPrice": "",
        "PricingCurrencyEffectiveCost": "",
        "PricingCurrencyListUnitPrice": "",
        "SubAccountType": "Account",
    },
    "1.3": {
        "ContractApplied": "",
        "AllocatedMethodId": "",
        "AllocatedMethodDetails": "",
        "AllocatedResourceId": "",
        "AllocatedResourceName": "",
        "AllocatedTags": "",
        "InvoiceDetailId": "",
    },
}
VERSIONS = ("1.0", "1.1", "1.2", "1.3", "1.4")


def _sample_rows(shared_data) -> list[dict[str, str]]:
    path = shared_data / "focus-sample-data" / "FOCUS-1.0" / "focus_sample.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _entities(row: dict[str, str]) -> dict[str, str]:
    """1.3 participating entities of a 1.0 row (the migration guide's scenario table): a
    Marketplace row (publisher other than the invoice issuer, the sample's Red Hat row) is sold
    by its publisher on the provider's infrastructure; any other row is the provider's own."""
    provider, publisher = row["ProviderName"], row["PublisherName"]
    seller = publisher if publisher != row["InvoiceIssuerName"] else provider
    return {"ServiceProviderName": seller, "HostProviderName": provider}


def versioned_rows(rows: list[dict[str, str]], version: str) -> list[dict[str, str]]:
    """The sample's rows as a FOCUS `version` export."""
    out = []
    for index, row in enumerate(rows):
        new = dict(row)
        for step in ("1.1", "1.2", "1.3"):
            if version >= step:
                new.update(ADDED[step])
        if version >= "1.3":
            new.update(_entities(row))
            new["InvoiceDetailId"] = f"line-{index}"
            if index % 10 == 0:
                new["ContractApplied"] = json.dumps({"Elements": [{"ContractId": "C-1"}]})
                new["AllocatedMethodId"] = "namespace-cpu"
                new["AllocatedTags"] = json.dumps({"team": "payments"})
        if version >= "1.4":
            del new["ProviderName"], new["PublisherName"]
        out.append(new)
    return out


def _csv(rows: list[dict[str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


def _parse(data: bytes):
    return focus_export.parse(data, source_file="focus.csv", ingestion_key="k", fetched_at=FETCHED)


def _blank(value: str | None) -> bool:
    return value is None or value in ("", "NULL", "null")


@pytest.fixture(scope="module")
def sample(shared_data):
    return _sample_rows(shared_data)


@pytest.mark.parametrize("version", VERSIONS)
def test_every_version_parses_with_the_same_billed_total(sample, version):
    rows = versioned_rows(sample, version)
    result = _parse(_csv(rows))
    # at our money scale (10 places): the sample writes 11, its last digit always 0 or rounded
    expected = sum(Decimal(r["BilledCost"]).quantize(Decimal("1e-10")) for r in sample)
    parsed_total = result.rows["BilledCost"].sum()
    quarantined = sum(Decimal(a) for a in result.quarantine["x_amount"].to_list())
    assert parsed_total + quarantined == expected
    assert focus_export.to_focus(result.rows)["BilledCost"].sum() == parsed_total


@pytest.mark.parametrize("version", VERSIONS)
def test_no_input_column_is_dropped(sample, version):
    """Every column of every row is a typed raw column or in x_extra_columns, value intact."""
    rows = versioned_rows(sample, version)
    result = _parse(_csv(rows))
    raw = result.rows.sort("x_source_line")
    kept = raw.to_dicts()
    by_line = {r["x_source_line"]: r for r in kept}
    typed = set(focus_export.FOCUS_RAW_COLUMNS)
    text = {c for c, t in focus_export.FOCUS_RAW_COLUMNS.items() if t == pl.Utf8()}
    for line, row in enumerate(rows, start=2):
        if line not in by_line:
            continue  # quarantined: the whole raw record is kept in the quarantine table
        ours = by_line[line]
        extras = json.loads(ours["x_extra_columns"] or "{}")
        for column, value in row.items():
            if column in text:  # raw text as the file wrote it ('' read as null)
                assert ours[column] == (value or None), (line, column)
            elif column in typed:  # typed: null exactly where the file has no value
                assert (ours[column] is None) == _blank(value), (line, column)
            else:
                assert extras[column] == (value or None), (line, column)


@pytest.mark.parametrize("version", ("1.3", "1.4"))
def test_providers_come_from_service_and_host_provider(sample, version):
    """The model's ProviderName (and x_provider) from a 1.4 file equal the 1.0 file's own, also
    on the Marketplace row and beside AWS's regional legal entities as invoice issuers;
    PublisherName is the service provider (the seller: 'Red Hat Inc.' on that row)."""
    rows = versioned_rows(sample, version)
    focus_rows = focus_export.to_focus(_parse(_csv(rows)).rows)
    original = focus_export.to_focus(_parse(_csv(versioned_rows(sample, "1.0"))).rows)
    for column in ("ProviderName", "x_provider"):
        assert focus_rows[column].to_list() == original[column].to_list(), column
    if version == "1.4":
        sellers = [r["ServiceProviderName"] for r in rows]
        assert focus_rows["PublisherName"].to_list() == sellers
        assert "Red Hat Inc." in sellers


def _entity_file(rows: list[tuple[str, str, str]]) -> bytes:
    header = (
        "BillingPeriodStart,BillingPeriodEnd,ChargePeriodStart,ChargePeriodEnd,BilledCost,"
        "EffectiveCost,BillingCurrency,ServiceProviderName,HostProviderName,InvoiceIssuerName"
    )
    lines = [
        f'2026-10-01,2026-11-01,2026-10-05T00:00:00Z,2026-10-06T00:00:00Z,1,1,USD,{s},{h},"{i}"'
        for s, h, i in rows
    ]
    return ("\n".join([header, *lines]) + "\n").encode()


def test_spec_scenarios_map_to_the_1_2_provider_and_publisher():
    """The migration guide's scenario table, read backwards (1.3 entities -> 1.2 columns)."""
    scenarios = [  # (ServiceProviderName, HostProviderName, InvoiceIssuerName) -> (Prov, Publ)
        (("Microsoft", "Microsoft", "Microsoft"), ("Microsoft", "Microsoft")),  # direct CSP
        (("Snowflake", "AWS", "AWS"), ("AWS", "Snowflake")),  # SaaS on CSP infrastructure
        (("Acme SaaS", "Acme SaaS", "AWS"), ("AWS", "Acme SaaS")),  # SaaS on its own infra
        (("Contoso MSP", "Microsoft", "Contoso MSP"), ("Contoso MSP", "Contoso MSP")),  # MSP
        (("AWS", "AWS", "Amazon Web Services, Inc."), ("AWS", "AWS")),  # AWS's legal entity
    ]
    result = _parse(_entity_file([given for given, _ in scenarios]))
    rows = focus_export.to_focus(result.rows)
    got = list(zip(rows["ProviderName"].to_list(), rows["PublisherName"].to_list(), strict=True))
    assert got == [expected for _, expected in scenarios]
    assert rows["x_provider"].to_list() == ["azure", "aws", "aws", "contoso-msp", "aws"]


# FOCUS 1.1-1.4 columns the test files carry, and where each lands in the model.
LATER_MODEL_COLUMNS = (
    "CapacityReservationId",
    "CapacityReservationStatus",
    "CommitmentDiscountQuantity",
    "CommitmentDiscountUnit",
    "SkuMeter",
    "SkuPriceDetails",
    "PricingCurrencyContractedUnitPrice",
    "PricingCurrencyEffectiveCost",
    "PricingCurrencyListUnitPrice",
    "ServiceProviderName",
    "HostProviderName",
    "ContractApplied",
    "InvoiceDetailId",
)
ALLOCATED_INPUT_COLUMNS = (
    "AllocatedMethodId",
    "AllocatedMethodDetails",
    "AllocatedResourceId",
    "AllocatedResourceName",
    "AllocatedTags",
)


def _with_commitment_quantities(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """Rows whose commitment discount is set get a quantity and unit, as a 1.1+ export states."""
    for row in rows:
        if row.get("CommitmentDiscountId"):
            row["CommitmentDiscountQuantity"] = "0.5"
            row["CommitmentDiscountUnit"] = "Hour"
    return rows


@pytest.mark.parametrize("version", ("1.3", "1.4"))
def test_later_columns_land_in_the_model_columns(sample, version):
    """A 1.3 and a 1.4 file: every FOCUS 1.1-1.4 column the model has lands in its typed model
    column, value for value; the input's own Allocated* columns stay in x_extra_columns."""
    rows = _with_commitment_quantities(versioned_rows(sample, version))
    assert any(r["CommitmentDiscountQuantity"] for r in rows)
    result = _parse(_csv(rows))
    assert result.quarantine.is_empty()
    raw = result.rows.sort("x_source_line")
    ours = focus_export.to_focus(raw).to_dicts()
    for line, (row, got) in enumerate(zip(rows, ours, strict=True), start=2):
        for column in LATER_MODEL_COLUMNS:
            expected = row[column] or None
            value = got[column]
            if column == "CommitmentDiscountQuantity" and value is not None:
                value = str(value.normalize())
            assert value == expected, (line, column)
    extras = [json.loads(e) for e in raw["x_extra_columns"].to_list()]
    # the sample's own non-FOCUS column 'Id' stays there too
    assert all(set(e) == {*ALLOCATED_INPUT_COLUMNS, "Id"} for e in extras)
    assert extras[0]["AllocatedMethodId"] == "namespace-cpu"


def test_an_unreadable_later_amount_is_quarantined_with_its_column(sample):
    rows = versioned_rows(sample[:3], "1.3")
    rows[1]["PricingCurrencyEffectiveCost"] = "twelve"
    result = _parse(_csv(rows))
    assert result.rows.height == 2
    bad = result.quarantine.row(0, named=True)
    assert (bad["x_source_line"], bad["x_column"]) == (3, "PricingCurrencyEffectiveCost")
    assert Decimal(bad["x_amount"]) == Decimal(rows[1]["BilledCost"])  # the amount, kept


@pytest.mark.parametrize("version", ("1.3", "1.4"))
def test_later_columns_survive_normalization_and_the_contracts(sample, version):
    """Through normalize_costs: the later columns keep their values in normalized_costs, the
    billed total is conserved, and both contracts (normalized, FOCUS 1.3) hold; a bad
    ContractApplied or a quantity without its unit fails them."""
    from finops_assets.domain.focus_versions import FOCUS13_SCHEMA, focus13_rows
    from finops_assets.normalize.checks import normalized_contract_result
    from finops_assets_tests.fidelity.compare import normalized_rows

    rows = _with_commitment_quantities(versioned_rows(sample, version))
    source = focus_export.to_focus(_parse(_csv(rows)).rows)
    normalized = normalized_rows(source)
    assert normalized["BilledCost"].sum() == source["BilledCost"].sum()
    by_key = {r["x_source_row_key"]: r for r in normalized.to_dicts()}
    for given in source.to_dicts():
        got = by_key[given["x_source_row_key"]]
        assert {c: got[c] for c in LATER_MODEL_COLUMNS} == {
            c: given[c] for c in LATER_MODEL_COLUMNS
        }
    assert normalized_contract_result(normalized).passed
    FOCUS13_SCHEMA.validate(focus13_rows(normalized))
    bad_json = normalized.with_columns(ContractApplied=pl.lit("not json"))
    assert {f["column"] for f in normalized_contract_result(bad_json).failures} == {
        "ContractApplied"
    }
    no_unit = normalized.with_columns(CommitmentDiscountUnit=pl.lit(None, pl.Utf8))
    failures = normalized_contract_result(no_unit).failures
    assert {f["check"] for f in failures} == {"commitment_discount_quantity_has_unit"}
