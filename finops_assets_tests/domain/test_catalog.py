"""Service catalog: FOCUS categories only, Azure from Services.csv, unknown services as Other."""

import csv
from decimal import Decimal

import polars as pl
import pytest

import finops_assets.domain.catalog as catalog_module
from finops_assets.domain.catalog import (
    CATALOG_VERSION,
    SERVICE_CATEGORIES,
    apply_service_catalog,
    catalog_version,
    load_catalog,
    load_shipped_catalog,
)
from finops_assets.domain.money import MONEY


def costs(rows: list[tuple[str, str | None, str | None, str]]) -> pl.DataFrame:
    """(x_provider, x_service_code, ServiceName, BilledCost) rows in USD."""
    return pl.DataFrame(
        [(p, code, name, cost, "USD", None, None) for p, code, name, cost in rows],
        schema={
            "x_provider": pl.Utf8,
            "x_service_code": pl.Utf8,
            "ServiceName": pl.Utf8,
            "BilledCost": pl.Utf8,
            "BillingCurrency": pl.Utf8,
            "ServiceCategory": pl.Utf8,
            "ServiceSubcategory": pl.Utf8,
        },
        orient="row",
    ).with_columns(pl.col("BilledCost").cast(MONEY))


def test_shipped_catalog_uses_only_focus_categories_and_is_versioned():
    catalog, version = load_shipped_catalog()
    assert set(catalog["ServiceCategory"].unique()) <= set(SERVICE_CATEGORIES)
    assert version == CATALOG_VERSION
    assert CATALOG_VERSION.split("-")[0].count(".") == 2
    assert len(CATALOG_VERSION.split("-")[1]) == 8
    assert catalog_version(b"other bytes") != CATALOG_VERSION


def test_non_focus_category_is_rejected():
    bad = b"provider,service_code,ServiceName,ServiceCategory,ServiceSubcategory\naws,X,X,Compute Stuff,Y\n"
    with pytest.raises(ValueError, match="Compute Stuff"):
        load_catalog(bad)


def test_azure_rows_follow_services_csv(shared_data):
    catalog, _ = load_shipped_catalog()
    azure = catalog.filter(pl.col("provider") == "azure")
    expected: dict[str, tuple[str, str, str]] = {}
    with open(shared_data / "finops-toolkit/open-data/Services.csv", encoding="utf-8-sig") as f:
        for r in csv.DictReader(f):
            code = r["ConsumedService"].strip().lower()
            if code and code not in expected:
                expected[code] = (r["ServiceName"], r["ServiceCategory"], r["ServiceSubcategory"])
    got = {
        r["service_code"].lower(): (r["ServiceName"], r["ServiceCategory"], r["ServiceSubcategory"])
        for r in azure.iter_rows(named=True)
    }
    assert {code: got[code] for code in expected} == expected
    # the rest are Azure meter categories (what the Query API groups by), e.g. Virtual Machines
    assert got["virtual machines"] == ("Virtual Machines", "Compute", "Virtual Machines")
    assert got["sql database"] == ("Azure SQL Database", "Databases", "Relational Databases")


def test_cost_explorer_service_names_are_all_mapped(shared_data):
    import json

    catalog, _ = load_shipped_catalog()
    names = set()
    for path in (shared_data / "aws-cost-explorer").glob("*.json"):
        for period in json.loads(path.read_text())["ResultsByTime"]:
            names.update(g["Keys"][0] for g in period.get("Groups", []))
    frame = costs([("aws", name, None, "1") for name in sorted(names)])
    _, unmapped = apply_service_catalog(frame, catalog)
    assert unmapped.is_empty(), unmapped


def test_apply_maps_case_insensitively_and_flags_unknown_as_other():
    catalog, version = load_shipped_catalog()
    frame = costs(
        [
            ("azure", "Microsoft.Compute", "vm", "1.5"),
            ("AWS", "amazonec2", None, "2"),
            ("aws", "EC2 - Other", None, "3"),
            ("gcp", "BigQuery", None, "4"),
            ("aws", "AmazonNewThing", "Amazon New Thing", "5.25"),
            ("aws", "AmazonNewThing", None, "0.75"),
            ("oci", None, None, "1"),
        ]
    )
    out, unmapped = apply_service_catalog(frame, catalog, version)
    assert out.height == frame.height
    assert out["ServiceName"].to_list() == [
        "Virtual Machines",
        "Amazon Elastic Compute Cloud",
        "Amazon Elastic Compute Cloud",
        "BigQuery",
        "Amazon New Thing",
        "AmazonNewThing",
        "Unknown",
    ]
    assert out["ServiceCategory"].to_list() == [
        "Compute",
        "Compute",
        "Compute",
        "Databases",
        "Other",
        "Other",
        "Other",
    ]
    assert out["x_catalog_version"].unique().to_list() == [version]
    assert unmapped.to_dicts() == [
        {
            "provider": "aws",
            "service_code": "AmazonNewThing",
            "currency": "USD",
            "rows": 2,
            "cost": Decimal("6"),
        },
        {
            "provider": "oci",
            "service_code": None,
            "currency": "USD",
            "rows": 1,
            "cost": Decimal("1"),
        },
    ]


def test_unmapped_keeps_a_valid_source_category():
    catalog, _ = load_shipped_catalog()
    frame = costs([("azure", "Microsoft.Brandnew", "Brand New", "1")]).with_columns(
        ServiceCategory=pl.lit("Analytics"), ServiceSubcategory=pl.lit("Data Processing")
    )
    out, unmapped = apply_service_catalog(frame, catalog)
    assert out.row(0, named=True)["ServiceCategory"] == "Analytics"
    assert unmapped.height == 1


def test_a_hash_collision_between_service_combinations_falls_back_to_the_columns(monkeypatch):
    """Every combination hashing alike must still give each row its own combination's values."""
    catalog, version = load_shipped_catalog()
    frame = costs(
        [
            ("azure", "Microsoft.Compute", "vm", "1.5"),
            ("AWS", "amazonec2", None, "2"),
            ("aws", "AmazonNewThing", "Amazon New Thing", "5.25"),
            ("oci", None, None, "1"),
        ]
    )
    expected, expected_unmapped = apply_service_catalog(frame, catalog, version)
    monkeypatch.setattr(catalog_module, "_combo_hash", lambda columns: pl.lit(7, pl.UInt64))
    out, unmapped = apply_service_catalog(frame, catalog, version)
    assert out.equals(expected) and unmapped.equals(expected_unmapped)
    assert out["ServiceName"].n_unique() == 4
