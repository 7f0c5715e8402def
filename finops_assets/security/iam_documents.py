"""IAM documents generated from `permissions`: the AWS policy, GCP custom roles, Azure roles.

Each function returns plain dicts in the provider's own format, ready for `json.dumps` (AWS
`aws iam create-policy --policy-document`, Azure `az role definition create
--role-definition`) or `yaml.safe_dump` (GCP `gcloud iam roles create --file`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from finops_assets.security.permissions import (
    ACTION,
    AWS,
    AWS_ANY,
    AWS_EXPORT_BUCKET,
    AWS_EXPORT_OBJECTS,
    AZURE,
    AZURE_COST_SCOPE,
    AZURE_EXPORT_CONTAINER,
    DATA_ACTION,
    GCP,
    GCP_BUCKET,
    GCP_DATASET,
    GCP_PROJECT,
    forbidden_for,
    grants_for,
)

IAM_POLICY_VERSION = "2012-10-17"

_AWS_ALLOW_SIDS = {
    AWS_ANY: "ReadCostExplorer",
    AWS_EXPORT_BUCKET: "ListCostExportPrefix",
    AWS_EXPORT_OBJECTS: "ReadCostExportObjects",
}
_AWS_DENY_SIDS = {
    AWS_ANY: "DenyBillingWrites",
    AWS_EXPORT_BUCKET: "DenyCostExportBucketWrites",
    AWS_EXPORT_OBJECTS: "DenyCostExportObjectWrites",
}
# GCP role id suffix and human title per binding scope.
GCP_ROLES = {
    GCP_PROJECT: ("finopsCostExportJobRunner", "FinOps cost export job runner"),
    GCP_DATASET: ("finopsCostExportDatasetReader", "FinOps cost export dataset reader"),
    GCP_BUCKET: ("finopsCostExportBucketReader", "FinOps cost export bucket reader"),
}
AZURE_ROLES = {
    AZURE_COST_SCOPE: ("FinOps Cost Reader", "Query costs and read export definitions."),
    AZURE_EXPORT_CONTAINER: ("FinOps Cost Export Reader", "Read exported cost files (blobs)."),
}


def _aws_resource(scope: str, bucket: str, prefix: str, *, deny: bool) -> str:
    if scope == AWS_ANY:
        return "*"
    if scope == AWS_EXPORT_BUCKET:
        return f"arn:aws:s3:::{bucket}"
    # A Deny covers every object of the bucket; an Allow only the export prefix.
    if deny or not prefix:
        return f"arn:aws:s3:::{bucket}/*"
    return f"arn:aws:s3:::{bucket}/{prefix}/*"


def aws_policy(bucket: str, prefix: str) -> dict[str, Any]:
    """The AWS IAM policy: read Cost Explorer and the CUR export prefix, deny billing writes.

    `bucket` and `prefix` may be Terraform interpolations such as "${var.export_bucket}";
    `prefix` has no leading or trailing slash ("" for an export at the bucket root).
    """
    statements: list[dict[str, Any]] = []
    for scope, sid in _AWS_ALLOW_SIDS.items():
        actions = sorted(g.permission for g in grants_for(AWS) if g.scope == scope)
        statement: dict[str, Any] = {
            "Sid": sid,
            "Effect": "Allow",
            "Action": actions,
            "Resource": _aws_resource(scope, bucket, prefix, deny=False),
        }
        if scope == AWS_EXPORT_BUCKET and prefix:
            statement["Condition"] = {"StringLike": {"s3:prefix": [prefix, f"{prefix}/*"]}}
        statements.append(statement)
    for scope, sid in _AWS_DENY_SIDS.items():
        actions = sorted(f.permission for f in forbidden_for(AWS) if f.scope == scope)
        resource = _aws_resource(scope, bucket, prefix, deny=True)
        statements.append({"Sid": sid, "Effect": "Deny", "Action": actions, "Resource": resource})
    return {"Version": IAM_POLICY_VERSION, "Statement": statements}


def gcp_custom_roles() -> dict[str, dict[str, Any]]:
    """GCP custom roles keyed by binding scope, each in `gcloud iam roles create --file` form.

    One role per scope so that object reads are bound on the export bucket and table reads on
    the export dataset, never project-wide.
    """
    roles: dict[str, dict[str, Any]] = {}
    for scope, (_, title) in GCP_ROLES.items():
        permissions = sorted(g.permission for g in grants_for(GCP) if g.scope == scope)
        roles[scope] = {
            "title": title,
            "description": f"Read-only access the FinOps pipeline needs on the {scope}.",
            "stage": "GA",
            "includedPermissions": permissions,
        }
    return roles


def azure_role_definitions(assignable_scopes: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Azure custom role definitions keyed by assignment scope (`az role definition` form).

    NotActions and NotDataActions only subtract from this role's own grants (they are not a
    deny across roles); they are listed so that widening Actions to a wildcard later still
    leaves export and budget writes out.
    """
    roles: dict[str, dict[str, Any]] = {}
    for scope, (name, description) in AZURE_ROLES.items():
        grants = [g for g in grants_for(AZURE) if g.scope == scope]
        refused = [f for f in forbidden_for(AZURE) if f.scope == scope]
        roles[scope] = {
            "Name": name,
            "IsCustom": True,
            "Description": description,
            "Actions": sorted(g.permission for g in grants if g.kind == ACTION),
            "NotActions": sorted(f.permission for f in refused if f.kind == ACTION),
            "DataActions": sorted(g.permission for g in grants if g.kind == DATA_ACTION),
            "NotDataActions": sorted(f.permission for f in refused if f.kind == DATA_ACTION),
            "AssignableScopes": list(assignable_scopes),
        }
    return roles


def allowed_permissions(provider: str) -> set[str]:
    """Every permission the generated documents of one provider allow."""
    if provider == AWS:
        policy = aws_policy("bucket", "prefix")
        return {
            action
            for statement in policy["Statement"]
            if statement["Effect"] == "Allow"
            for action in statement["Action"]
        }
    if provider == GCP:
        return {p for role in gcp_custom_roles().values() for p in role["includedPermissions"]}
    if provider == AZURE:
        roles = azure_role_definitions(["/subscriptions/0"]).values()
        return {p for role in roles for p in [*role["Actions"], *role["DataActions"]]}
    raise ValueError(f"unknown provider {provider!r}")
