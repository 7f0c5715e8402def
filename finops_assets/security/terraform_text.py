"""The non-policy parts of the generated Terraform: variables, provider pins and the README."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from finops_assets.security.hcl import Block, Expr, render_blocks
from finops_assets.security.permissions import FORBIDDEN, GRANTS, PROVIDERS

TERRAFORM_VERSION = ">= 1.5.0"
PROVIDER_PINS = {
    "aws": ("hashicorp/aws", "~> 6.0"),
    "google": ("hashicorp/google", "~> 7.0"),
    "azurerm": ("hashicorp/azurerm", "~> 4.0"),
}


@dataclass(frozen=True)
class Variable:
    """One Terraform input variable, with an optional validation rule."""

    name: str
    type: str
    description: str
    default: Any = None
    sensitive: bool = False
    condition: str = ""
    error_message: str = ""


AWS_VARIABLES = (
    Variable("role_name", "string", "Name of the pipeline's IAM role.", "finops-cost-reader"),
    Variable(
        "trusted_principal_arns",
        "list(string)",
        "ARNs of the principals that run the pipeline and may assume the role.",
        condition='length(var.trusted_principal_arns) > 0 && alltrue([for arn in var.trusted_principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:", arn))])',
        error_message="Give at least one IAM principal ARN; wildcards and accounts-by-id-only are refused.",
    ),
    Variable(
        "external_id",
        "string",
        "External id the pipeline presents when assuming the role.",
        sensitive=True,
        condition="length(var.external_id) >= 16",
        error_message="The external id must be at least 16 characters.",
    ),
    Variable("export_bucket", "string", "S3 bucket receiving the CUR 2.0 data export."),
    Variable(
        "export_prefix",
        "string",
        "Prefix of the export inside the bucket, without leading or trailing slash.",
        condition='length(var.export_prefix) > 0 && !startswith(var.export_prefix, "/") && !endswith(var.export_prefix, "/")',
        error_message="The prefix must be non-empty, without leading or trailing slash.",
    ),
    Variable("tags", "map(string)", "Tags for the role and policy.", {}),
)
GCP_VARIABLES = (
    Variable("project_id", "string", "Project holding the billing export dataset and bucket."),
    Variable("export_dataset_id", "string", "BigQuery dataset of the Cloud Billing export."),
    Variable("export_bucket", "string", "Cloud Storage bucket holding exported billing files."),
    Variable(
        "member",
        "string",
        "The pipeline's identity, as serviceAccount:NAME@PROJECT.iam.gserviceaccount.com.",
        condition='startswith(var.member, "serviceAccount:")',
        error_message="Bind a service account, not a user, group or allUsers.",
    ),
)
AZURE_VARIABLES = (
    Variable("assignable_scope", "string", "Subscription or management group the roles live in."),
    Variable(
        "cost_scope", "string", "Scope the Query API reads (subscription, resource group...)."
    ),
    Variable(
        "export_container_id",
        "string",
        "Resource id of the blob container receiving the cost exports.",
        condition='can(regex("/blobServices/default/containers/[^/]+$", var.export_container_id))',
        error_message="Give the container's resource id (.../blobServices/default/containers/NAME).",
    ),
    Variable("principal_id", "string", "Object id of the pipeline's managed identity."),
    Variable("role_name_prefix", "string", "Prefix for the role names, for several estates.", ""),
)


def _variable_block(variable: Variable) -> Block:
    body: list[tuple[str, Any] | Block] = [
        ("description", variable.description),
        ("type", Expr(variable.type)),
    ]
    if variable.default is not None:
        body.append(("default", variable.default))
    if variable.sensitive:
        body.append(("sensitive", True))
    if variable.condition:
        body.append(
            Block(
                "validation",
                (),
                [
                    ("condition", Expr(variable.condition)),
                    ("error_message", variable.error_message),
                ],
            )
        )
    return Block("variable", (variable.name,), body)


def variables_tf(variables: tuple[Variable, ...], header: str) -> str:
    """variables.tf for one provider."""
    return render_blocks([_variable_block(v) for v in variables], header)


def versions_tf(name: str, pin: tuple[str, str], header: str) -> str:
    """versions.tf pinning Terraform and the provider to a compatible range."""
    source, version = pin
    providers = Block("required_providers", (), [(name, {"source": source, "version": version})])
    block = Block("terraform", (), [("required_version", TERRAFORM_VERSION), providers])
    return render_blocks([block], header)


def _table(provider: str) -> str:
    rows = [
        f"| allow | `{g.permission}` | {g.scope} | {g.why} |"
        for g in GRANTS
        if g.provider == provider
    ]
    rows += [
        f"| refuse | `{f.permission}` | {f.scope} | {f.why} |"
        for f in FORBIDDEN
        if f.provider == provider
    ]
    return "\n".join(["| effect | permission | scope | why |", "| --- | --- | --- | --- |", *rows])


# Said under a provider's table: what its identity needs that is deliberately not a grant.
_NOTES = {
    "aws": (
        "Cost Explorer rows take their BillingAccountId from `FINOPS_AWS_PAYER_ACCOUNT_ID`, or, unset,\n"
        "from STS `GetCallerIdentity` (the calling account: run Cost Explorer from the management account).\n"
        "`GetCallerIdentity` needs no IAM permission (AWS answers it even under an explicit deny), so\n"
        "nothing is added to the policy for it."
    ),
}


def readme() -> str:
    """deploy/terraform/README.md: what each module grants and how to use it."""
    sections = "\n\n".join(
        f"### {provider}\n\n{_table(provider)}"
        + (f"\n\n{_NOTES[provider]}" if provider in _NOTES else "")
        for provider in PROVIDERS
    )
    return f"""# Least-privilege access for the FinOps pipeline

<!-- Generated by `python -m finops_assets.security.render deploy/terraform`. Do not edit. -->

One Terraform module per cloud gives the pipeline's identity read-only access to cost data and
nothing else. Every file here is generated from `finops_assets/security/permissions.py`; the
tests in `finops_assets_tests/security/` regenerate them and fail if this copy differs, lint the
AWS policy with parliament, parse every file with python-hcl2 and run checkov on this folder.

- `aws/`: an IAM role (trust: the given principal ARNs with an external id) and a policy
  allowing Cost Explorer reads and the CUR 2.0 export prefix, with an explicit Deny on billing,
  budget and export-bucket writes.
- `gcp/`: three project custom roles, each bound only where it applies: job and read-session
  creation on the project, table reads on the export dataset, object reads on the export
  bucket. `gcp/roles/*.yaml` are the same roles for `gcloud iam roles create --file`.
- `azure/`: two custom roles: Cost Management reads assigned at the cost scope, blob reads
  (a DataAction) assigned on the export container only. NotActions list export and budget
  writes; in Azure they only subtract from the same role, so they guard the role against a
  later wildcard rather than deny across roles.

The modules declare no provider block: call them from your root module, for example

```hcl
module "finops_aws" {{
  source                 = "./deploy/terraform/aws"
  trusted_principal_arns = ["arn:aws:iam::123456789012:role/dagster-runner"]
  external_id            = var.finops_external_id
  export_bucket          = "acme-cur"
  export_prefix          = "cur2/finops"
}}
```

To change a permission, edit `permissions.py` (each grant must be needed by an operation in
`OPERATIONS`, or the tests fail), then run
`.venv/bin/python -m finops_assets.security.render deploy/terraform`.

## What is granted

{sections}
"""
