"""FOCUS 1.3 participating entities of our rows, by the spec's migration scenario table.

FOCUS_Spec "Version Migration Guidance" (1.2 -> 1.3): a direct purchase has the provider as
ServiceProviderName and HostProviderName; a Marketplace purchase of SaaS on the cloud's
infrastructure has the seller (1.2 PublisherName) as ServiceProviderName and the cloud as
HostProviderName. Held on the public CUR rows: legacy (AWS's own) and CUR 2.0 Red Hat
Marketplace rows.
"""

import datetime as dt

from finops_assets.domain.focus_versions import FOCUS13_SCHEMA, focus13_rows
from finops_assets.domain.sources import aws_cur
from finops_assets_tests.fidelity.compare import normalized_rows


def _focus13(path):
    fetched = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    raw = aws_cur.parse(
        path.read_bytes(), source_file=path.name, ingestion_key="k", fetched_at=fetched
    )
    return focus13_rows(normalized_rows(aws_cur.to_focus(raw.rows)))


def test_marketplace_seller_is_the_service_provider_and_aws_the_host(shared_data):
    rows = _focus13(shared_data / "koku" / "aws" / "2022-07-01-alt-columns.csv")
    entities = set(zip(rows["ServiceProviderName"], rows["HostProviderName"], strict=True))
    assert entities == {("Red Hat, Inc.", "AWS")}
    assert set(rows["PublisherName"]) == {"Red Hat, Inc."}
    FOCUS13_SCHEMA.validate(rows)


def test_a_direct_purchase_has_the_provider_in_both_roles(shared_data):
    rows = _focus13(shared_data / "koku" / "aws" / "test_cur.csv")
    entities = set(zip(rows["ServiceProviderName"], rows["HostProviderName"], strict=True))
    assert entities == {("AWS", "AWS")}


def test_normalized_costs_carries_the_entities_as_model_columns(shared_data):
    """The entities are columns of normalized_costs itself (not only of the 1.3 file), and the
    normalized contract requires them on every row."""
    from finops_assets.normalize.checks import normalized_contract_result

    fetched = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    path = shared_data / "koku" / "aws" / "2022-07-01-alt-columns.csv"
    raw = aws_cur.parse(
        path.read_bytes(), source_file=path.name, ingestion_key="k", fetched_at=fetched
    )
    rows = normalized_rows(aws_cur.to_focus(raw.rows))
    assert set(zip(rows["ServiceProviderName"], rows["HostProviderName"], strict=True)) == {
        ("Red Hat, Inc.", "AWS")
    }
    assert normalized_contract_result(rows).passed
    broken = rows.with_columns(HostProviderName=None)
    outcome = normalized_contract_result(broken)
    assert not outcome.passed
    assert {f["column"] for f in outcome.failures} == {"HostProviderName"}
