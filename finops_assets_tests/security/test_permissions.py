"""The source of truth is closed: every grant is needed by an operation, every operation granted."""

import boto3
import pytest
from botocore.stub import Stubber

from finops_assets.security.iam_documents import allowed_permissions
from finops_assets.security.permissions import (
    FORBIDDEN,
    GRANTS,
    OPERATIONS,
    PROVIDERS,
    UnknownOperationError,
    azure_operation_name,
    permissions_for,
)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_operation_is_granted(provider: str) -> None:
    needed = {p for op in OPERATIONS if op.provider == provider for p in op.permissions}
    assert needed - allowed_permissions(provider) == set()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_allow_in_the_documents_is_needed_by_an_operation(provider: str) -> None:
    needed = {p for op in OPERATIONS if op.provider == provider for p in op.permissions}
    unused = allowed_permissions(provider) - needed
    assert unused == set(), f"granted but no client operation needs it: {sorted(unused)}"


def test_documents_allow_exactly_the_declared_grants() -> None:
    for provider in PROVIDERS:
        declared = {g.permission for g in GRANTS if g.provider == provider}
        assert allowed_permissions(provider) == declared


def test_grants_and_forbidden_writes_are_disjoint_and_unique() -> None:
    granted = [(g.provider, g.permission) for g in GRANTS]
    assert len(granted) == len(set(granted))
    assert not set(granted) & {(f.provider, f.permission) for f in FORBIDDEN}
    assert all(g.why for g in GRANTS) and all(f.why for f in FORBIDDEN)


def test_no_grant_is_a_write_or_a_wildcard() -> None:
    for grant in GRANTS:
        verb = grant.permission.replace(":", "/").replace(".", "/").split("/")[-1]
        assert "*" not in grant.permission, grant
        assert not verb.startswith(("Put", "Delete", "Create", "Update", "Modify", "write")), grant


def _emitted_boto3_operations(calls) -> list[tuple[str, str]]:
    """Call boto3 clients against stubbed responses and record (endpoint prefix, operation)."""
    emitted: list[tuple[str, str]] = []

    def record(model, **_kwargs) -> None:
        emitted.append((model.service_model.endpoint_prefix, model.name))

    session = boto3.Session(
        aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1"
    )
    for service, method, params in calls:
        client = session.client(service)
        client.meta.events.register("before-parameter-build", record)
        with Stubber(client) as stubber:
            stubber.add_response(method, {}, params)
            getattr(client, method)(**params)
    return emitted


def test_boto3_operation_names_map_to_the_granted_permissions() -> None:
    period = {"Start": "2026-11-01", "End": "2026-11-02"}
    calls = [
        (
            "ce",
            "get_cost_and_usage",
            {"TimePeriod": period, "Granularity": "DAILY", "Metrics": ["UnblendedCost"]},
        ),
        (
            "ce",
            "get_cost_forecast",
            {"TimePeriod": period, "Granularity": "DAILY", "Metric": "UNBLENDED_COST"},
        ),
        ("s3", "list_objects_v2", {"Bucket": "acme-cur", "Prefix": "cur2/finops/"}),
        ("s3", "get_object", {"Bucket": "acme-cur", "Key": "cur2/finops/data/x.parquet"}),
        ("s3", "head_object", {"Bucket": "acme-cur", "Key": "cur2/finops/data/x.parquet"}),
    ]
    emitted = _emitted_boto3_operations(calls)
    assert emitted == [
        ("ce", "GetCostAndUsage"),
        ("ce", "GetCostForecast"),
        ("s3", "ListObjectsV2"),
        ("s3", "GetObject"),
        ("s3", "HeadObject"),
    ]
    mapped = [permissions_for("aws", api, name) for api, name in emitted]
    assert mapped == [
        ("ce:GetCostAndUsage",),
        ("ce:GetCostForecast",),
        ("s3:ListBucket",),
        ("s3:GetObject",),
        ("s3:GetObject",),
    ]


def test_an_undeclared_operation_is_refused_with_a_clear_message() -> None:
    with pytest.raises(UnknownOperationError, match="PutObject.*not declared"):
        permissions_for("aws", "s3", "PutObject")


def test_google_and_azure_operation_names_map_to_permissions() -> None:
    assert permissions_for("gcp", "storage", "storage.objects.list") == ("storage.objects.list",)
    assert "bigquery.readsessions.create" in permissions_for(
        "gcp", "bigquerystorage", "CreateReadSession"
    )
    query = azure_operation_name(
        "post",
        "/subscriptions/0000/providers/Microsoft.CostManagement/query?api-version=2023-11-01",
    )
    assert query == "POST /providers/Microsoft.CostManagement/query"
    assert permissions_for("azure", "arm", query) == ("Microsoft.CostManagement/query/action",)
    history = azure_operation_name(
        "GET", "/subscriptions/0/providers/Microsoft.CostManagement/exports/daily-focus/runHistory"
    )
    assert permissions_for("azure", "arm", history) == ("Microsoft.CostManagement/exports/read",)
    with pytest.raises(UnknownOperationError, match="names no resource provider"):
        azure_operation_name("GET", "/subscriptions/0")
