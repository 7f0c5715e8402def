"""The AWS payer account behind Cost Explorer rows (FOCUS BillingAccountId).

A GetCostAndUsage response names linked accounts, never the payer whose bill it reports. The
payer is, in order: the setting FINOPS_AWS_PAYER_ACCOUNT_ID; else, when Cost Explorer is read
through its API (FINOPS_SOURCE_AWS_COST_EXPLORER=api), the account of the credentials calling
it, from STS GetCallerIdentity (Cost Explorer is called from the management account, which is
the payer; GetCallerIdentity needs no IAM permission); else None, and normalized_costs warns.
"""

from collections.abc import Callable
from typing import Any

import boto3

from finops_assets.domain.sources.aws_cost_explorer import SOURCE
from finops_assets.settings import Settings


def sts_client() -> Any:
    """A boto3 STS client from the default credential chain (AWS_ENDPOINT_URL honoured)."""
    session = boto3.session.Session()
    return session.client("sts", region_name=session.region_name or "us-east-1")


def resolve_payer_account(
    settings: Settings, client_factory: Callable[[], Any] = sts_client
) -> str | None:
    """The payer account id for Cost Explorer rows, or None when nothing names it."""
    if settings.aws_payer_account_id:
        return settings.aws_payer_account_id
    if settings.source_locations.get(SOURCE) != "api":
        return None
    account = client_factory().get_caller_identity()["Account"]
    return str(account)
