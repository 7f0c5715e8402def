"""The generated IAM documents: parliament finds nothing in the AWS policy; roles are least privilege."""

import json

from parliament import analyze_policy_string

from finops_assets.security.iam_documents import (
    aws_policy,
    azure_role_definitions,
    gcp_custom_roles,
)


def _parliament_findings(policy: dict) -> list[tuple[str, object]]:
    result = analyze_policy_string(json.dumps(policy), include_community_auditors=True)
    return [(finding.issue, finding.detail) for finding in result.findings]


def test_parliament_finds_nothing_in_the_generated_aws_policy() -> None:
    # No suppression: parliament 1.6.4 reports nothing, the Deny statements included.
    assert _parliament_findings(aws_policy("acme-cur", "cur2/finops")) == []


def test_parliament_is_really_checking_resources() -> None:
    # Control: the same policy with GetObject on the bucket ARN instead of its objects.
    policy = aws_policy("acme-cur", "cur2/finops")
    policy["Statement"][2]["Resource"] = "arn:aws:s3:::acme-cur"
    assert [issue for issue, _ in _parliament_findings(policy)] == ["RESOURCE_MISMATCH"]


def test_aws_policy_scopes_s3_reads_to_the_export_prefix() -> None:
    statements = {s["Sid"]: s for s in aws_policy("acme-cur", "cur2/finops")["Statement"]}
    assert statements["ReadCostExportObjects"]["Resource"] == "arn:aws:s3:::acme-cur/cur2/finops/*"
    assert statements["ListCostExportPrefix"]["Condition"] == {
        "StringLike": {"s3:prefix": ["cur2/finops", "cur2/finops/*"]}
    }
    assert statements["DenyCostExportObjectWrites"]["Resource"] == "arn:aws:s3:::acme-cur/*"
    assert statements["DenyCostExportObjectWrites"]["Effect"] == "Deny"


def test_aws_policy_for_an_export_at_the_bucket_root_has_no_prefix_condition() -> None:
    statements = {s["Sid"]: s for s in aws_policy("acme-cur", "")["Statement"]}
    assert "Condition" not in statements["ListCostExportPrefix"]
    assert statements["ReadCostExportObjects"]["Resource"] == "arn:aws:s3:::acme-cur/*"


def test_gcp_roles_bind_object_and_table_reads_only_where_they_apply() -> None:
    roles = gcp_custom_roles()
    assert roles["bucket"]["includedPermissions"] == ["storage.objects.get", "storage.objects.list"]
    assert roles["dataset"]["includedPermissions"] == [
        "bigquery.datasets.get",
        "bigquery.tables.get",
        "bigquery.tables.getData",
    ]
    assert roles["project"]["includedPermissions"] == [
        "bigquery.jobs.create",
        "bigquery.readsessions.create",
        "bigquery.readsessions.getData",
    ]
    assert all(
        set(role) == {"title", "description", "stage", "includedPermissions"}
        for role in roles.values()
    )


def test_azure_roles_split_control_plane_reads_from_blob_reads() -> None:
    roles = azure_role_definitions(["/subscriptions/0000"])
    cost, blobs = roles["cost_scope"], roles["export_container"]
    assert cost["Actions"] == [
        "Microsoft.CostManagement/exports/read",
        "Microsoft.CostManagement/query/action",
    ]
    assert cost["DataActions"] == []
    assert "Microsoft.CostManagement/exports/write" in cost["NotActions"]
    assert "Microsoft.Consumption/budgets/write" in cost["NotActions"]
    assert blobs["Actions"] == []
    assert blobs["DataActions"] == [
        "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"
    ]
    assert blobs["AssignableScopes"] == ["/subscriptions/0000"]


def test_aws_policy_fits_the_managed_policy_size_limit() -> None:
    # IAM counts managed policy size without whitespace: at most 6,144 characters.
    compact = json.dumps(aws_policy("a" * 63, "p" * 200), separators=(",", ":"))
    assert len(compact) <= 6144
