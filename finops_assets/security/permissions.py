"""The one list of cloud permissions the pipeline needs, per provider, and why.

Everything else (the AWS IAM policy, the GCP custom roles, the Azure role definitions, the
Terraform under deploy/terraform) is generated from this module by `iam_documents` and
`render`, and the tests prove that each granted permission is needed by an API operation the
clients call, and that each operation the clients call is granted.

A grant has a *scope*: where it is bound. Permissions bound at different scopes go into
different roles, so that for example reading objects is granted on the export bucket only,
never on the whole project or subscription.
"""

from __future__ import annotations

from dataclasses import dataclass

AWS = "aws"
GCP = "gcp"
AZURE = "azure"
PROVIDERS = (AWS, GCP, AZURE)

# AWS scopes: the resource a statement names.
AWS_ANY = "any"  # Cost Explorer read actions support no resource-level scoping ("*").
AWS_EXPORT_BUCKET = "export_bucket"  # arn:aws:s3:::<bucket>
AWS_EXPORT_OBJECTS = "export_objects"  # arn:aws:s3:::<bucket>/<prefix>/*
# GCP scopes: the resource a role is bound on.
GCP_PROJECT = "project"  # the project that runs BigQuery jobs and read sessions
GCP_DATASET = "dataset"  # the billing export dataset
GCP_BUCKET = "bucket"  # the bucket holding exported files
# Azure scopes: where a role is assigned.
AZURE_COST_SCOPE = "cost_scope"  # subscription, resource group or billing scope queried
AZURE_EXPORT_CONTAINER = "export_container"  # the blob container the cost exports land in

ACTION = "action"
DATA_ACTION = "data_action"  # Azure only: data plane (blob contents)


@dataclass(frozen=True)
class Grant:
    """One permission the pipeline is allowed, where it is bound, and why it is needed."""

    provider: str
    permission: str
    scope: str
    why: str
    kind: str = ACTION


@dataclass(frozen=True)
class Forbidden:
    """A write the pipeline must never make: an explicit Deny (AWS) or NotAction (Azure)."""

    provider: str
    permission: str
    scope: str
    why: str
    kind: str = ACTION


@dataclass(frozen=True)
class Operation:
    """An API operation a client emits, named as that client names it, and what it needs.

    `api` is the boto3 endpoint prefix ("ce", "s3"), the Google API ("storage" for the GCS
    JSON API, "bigquery", "bigquerystorage") or the Azure plane ("arm", "blob").
    """

    provider: str
    api: str
    name: str
    permissions: tuple[str, ...]


GRANTS: tuple[Grant, ...] = (
    Grant(AWS, "ce:GetCostAndUsage", AWS_ANY, "Cost Explorer daily cost pages"),
    Grant(AWS, "ce:GetCostForecast", AWS_ANY, "Cost Explorer forecast for budget burn"),
    Grant(AWS, "s3:ListBucket", AWS_EXPORT_BUCKET, "list CUR 2.0 export files under the prefix"),
    Grant(AWS, "s3:GetObject", AWS_EXPORT_OBJECTS, "download CUR 2.0 export files"),
    Grant(GCP, "bigquery.jobs.create", GCP_PROJECT, "run the query on the billing export"),
    Grant(GCP, "bigquery.readsessions.create", GCP_PROJECT, "Storage Read API session"),
    Grant(GCP, "bigquery.readsessions.getData", GCP_PROJECT, "Storage Read API ReadRows"),
    Grant(GCP, "bigquery.datasets.get", GCP_DATASET, "check the export dataset exists"),
    Grant(GCP, "bigquery.tables.get", GCP_DATASET, "read the export table schema"),
    Grant(GCP, "bigquery.tables.getData", GCP_DATASET, "read the export table rows"),
    Grant(GCP, "storage.objects.list", GCP_BUCKET, "list exported billing files"),
    Grant(GCP, "storage.objects.get", GCP_BUCKET, "download exported billing files"),
    Grant(AZURE, "Microsoft.CostManagement/query/action", AZURE_COST_SCOPE, "Query API (POST)"),
    Grant(AZURE, "Microsoft.CostManagement/exports/read", AZURE_COST_SCOPE, "find export runs"),
    Grant(
        AZURE,
        "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
        AZURE_EXPORT_CONTAINER,
        "list and download exported cost files",
        kind=DATA_ACTION,
    ),
)

_EXPORT_WRITE = "the export is the audit trail of what was billed: never rewrite it"
FORBIDDEN: tuple[Forbidden, ...] = (
    Forbidden(AWS, "ce:Create*", AWS_ANY, "no cost categories, monitors or reports"),
    Forbidden(AWS, "ce:Update*", AWS_ANY, "no change to Cost Explorer settings"),
    Forbidden(AWS, "ce:Delete*", AWS_ANY, "no deletion of Cost Explorer objects"),
    Forbidden(AWS, "aws-portal:Modify*", AWS_ANY, "no change to billing or payment settings"),
    Forbidden(AWS, "budgets:Modify*", AWS_ANY, "budgets are read, never changed"),
    Forbidden(AWS, "s3:PutObject*", AWS_EXPORT_OBJECTS, _EXPORT_WRITE),
    Forbidden(AWS, "s3:DeleteObject*", AWS_EXPORT_OBJECTS, _EXPORT_WRITE),
    Forbidden(AWS, "s3:PutBucket*", AWS_EXPORT_BUCKET, "no bucket policy, ACL or lifecycle edit"),
    Forbidden(AZURE, "Microsoft.CostManagement/exports/write", AZURE_COST_SCOPE, _EXPORT_WRITE),
    Forbidden(AZURE, "Microsoft.CostManagement/exports/delete", AZURE_COST_SCOPE, _EXPORT_WRITE),
    Forbidden(AZURE, "Microsoft.CostManagement/exports/action", AZURE_COST_SCOPE, "no export run"),
    Forbidden(AZURE, "Microsoft.Consumption/budgets/write", AZURE_COST_SCOPE, "read-only budgets"),
    Forbidden(AZURE, "Microsoft.Consumption/budgets/delete", AZURE_COST_SCOPE, "read-only budgets"),
    Forbidden(
        AZURE,
        "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write",
        AZURE_EXPORT_CONTAINER,
        _EXPORT_WRITE,
        kind=DATA_ACTION,
    ),
    Forbidden(
        AZURE,
        "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete",
        AZURE_EXPORT_CONTAINER,
        _EXPORT_WRITE,
        kind=DATA_ACTION,
    ),
)

_BLOB_READ = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"
OPERATIONS: tuple[Operation, ...] = (
    Operation(AWS, "ce", "GetCostAndUsage", ("ce:GetCostAndUsage",)),
    Operation(AWS, "ce", "GetCostForecast", ("ce:GetCostForecast",)),
    Operation(AWS, "s3", "ListObjectsV2", ("s3:ListBucket",)),
    Operation(AWS, "s3", "ListObjects", ("s3:ListBucket",)),
    Operation(AWS, "s3", "GetObject", ("s3:GetObject",)),
    Operation(AWS, "s3", "HeadObject", ("s3:GetObject",)),
    Operation(GCP, "storage", "storage.objects.list", ("storage.objects.list",)),
    Operation(GCP, "storage", "storage.objects.get", ("storage.objects.get",)),
    Operation(GCP, "bigquery", "bigquery.datasets.get", ("bigquery.datasets.get",)),
    Operation(GCP, "bigquery", "bigquery.tables.get", ("bigquery.tables.get",)),
    Operation(
        GCP, "bigquery", "bigquery.jobs.insert", ("bigquery.jobs.create", "bigquery.tables.getData")
    ),
    Operation(GCP, "bigquery", "bigquery.tabledata.list", ("bigquery.tables.getData",)),
    Operation(
        GCP,
        "bigquerystorage",
        "CreateReadSession",
        ("bigquery.readsessions.create", "bigquery.tables.getData"),
    ),
    Operation(GCP, "bigquerystorage", "ReadRows", ("bigquery.readsessions.getData",)),
    Operation(
        AZURE,
        "arm",
        "POST /providers/Microsoft.CostManagement/query",
        ("Microsoft.CostManagement/query/action",),
    ),
    Operation(
        AZURE,
        "arm",
        "GET /providers/Microsoft.CostManagement/exports",
        ("Microsoft.CostManagement/exports/read",),
    ),
    Operation(
        AZURE,
        "arm",
        "GET /providers/Microsoft.CostManagement/exports/{exportName}/runHistory",
        ("Microsoft.CostManagement/exports/read",),
    ),
    Operation(AZURE, "blob", "ListBlobs", (_BLOB_READ,)),
    Operation(AZURE, "blob", "GetBlob", (_BLOB_READ,)),
    Operation(AZURE, "blob", "GetBlobProperties", (_BLOB_READ,)),
)


class UnknownOperationError(KeyError):
    """A client emitted an operation that is not declared here (so it is not granted)."""


def grants_for(provider: str) -> tuple[Grant, ...]:
    """The permissions granted to the pipeline on one provider."""
    return tuple(grant for grant in GRANTS if grant.provider == provider)


def forbidden_for(provider: str) -> tuple[Forbidden, ...]:
    """The writes explicitly refused to the pipeline on one provider."""
    return tuple(item for item in FORBIDDEN if item.provider == provider)


def permissions_for(provider: str, api: str, operation: str) -> tuple[str, ...]:
    """The permissions one client operation needs; raises if the operation is not declared."""
    for item in OPERATIONS:
        if (item.provider, item.api, item.name) == (provider, api, operation):
            return item.permissions
    raise UnknownOperationError(
        f"operation {operation!r} on {provider}/{api} is not declared in "
        "finops_assets.security.permissions.OPERATIONS: declare it and the permissions it needs"
    )


def azure_operation_name(method: str, path: str) -> str:
    """Name an Azure Resource Manager request as OPERATIONS does (scope and query removed).

    `POST /subscriptions/1/providers/Microsoft.CostManagement/query?api-version=2023-11-01`
    becomes `POST /providers/Microsoft.CostManagement/query`; an export name becomes
    `{exportName}`.
    """
    bare = path.split("?", 1)[0].rstrip("/")
    marker = "/providers/"
    if marker not in bare:
        raise UnknownOperationError(f"Azure request path {path!r} names no resource provider")
    tail = bare[bare.rindex(marker) + len(marker) :].split("/")
    if len(tail) >= 3 and tail[1] == "exports":
        tail[2] = "{exportName}"
    return f"{method.upper()} {marker}{'/'.join(tail)}"
