"""The AWS payer account behind Cost Explorer rows (FOCUS BillingAccountId).

A GetCostAndUsage response names linked accounts, never the payer whose bill it reports. The
payer is, in order: the setting FINOPS_AWS_PAYER_ACCOUNT_ID; else, when Cost Explorer is read
through its API (FINOPS_SOURCE_AWS_COST_EXPLORER=api), the account of the credentials calling
it, from STS GetCallerIdentity (Cost Explorer is called from the management account, which is
the payer; GetCallerIdentity needs no IAM permission); else, when Cost Explorer is read from the
landing folder (the recorded twin of the API), the GetCallerIdentity response recorded beside the
pages, `<landing>/aws_cost_explorer/sts-caller-identity.json`; else None, and normalized_costs
warns (and the FOCUS publications fail their BillingAccountId contract, naming the setting).
"""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3

from finops_assets.domain.sources.aws_cost_explorer import RECORDED_IDENTITY_FILE, SOURCE
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
    if settings.source_locations.get(SOURCE) == "api":
        return _account_of(client_factory().get_caller_identity(), "STS GetCallerIdentity")
    recorded = recorded_identity_path(settings.landing_dir)
    if recorded.is_file():
        try:
            identity = json.loads(recorded.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise PayerAccountError(
                f"{recorded}: not a GetCallerIdentity response ({error})"
            ) from None
        return _account_of(identity, str(recorded))
    return None


class PayerAccountError(ValueError):
    """The payer account could not be read from where it was expected."""


def recorded_identity_path(landing_dir: Path) -> Path:
    """Where the landing folder keeps the recorded GetCallerIdentity response of the payer."""
    return Path(landing_dir) / SOURCE / RECORDED_IDENTITY_FILE


def _account_of(identity: Any, origin: str) -> str:
    """The 12-digit `Account` of a GetCallerIdentity response, or a clear error naming `origin`."""
    account = str(identity.get("Account", "")) if isinstance(identity, dict) else ""
    if len(account) != 12 or not account.isdigit():
        raise PayerAccountError(f"{origin}: Account {account!r} is not a 12-digit AWS account id")
    return account
