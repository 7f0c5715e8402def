"""Startup checks of the AWS sources (run by `finops check`): the s3:// export buckets and the
Cost Explorer API.

The bucket probe builds its client from the registered `s3` resource (resources/object_stores.py),
the STS probe with boto3's default chain as the Cost Explorer reader does; both with a short
timeout and no retry. A refused key or secret names AWS_ACCESS_KEY_ID or
AWS_SECRET_ACCESS_KEY; a missing bucket, a dead or silent endpoint names the source's
FINOPS_SOURCE_* setting; all before any partition reads from it.
"""

from typing import Any

from finops_assets.deploy_errors import (
    PROBE_TIMEOUT_SECONDS,
    StartupCheckError,
    first_line,
    reach_endpoint,
    source_setting,
    sources_by_bucket,
)
from finops_assets.resources.object_stores import s3_for
from finops_assets.settings import Settings

# AWS error code -> the setting that holds the refused part of the credential.
_REFUSED = {
    "InvalidAccessKeyId": "AWS_ACCESS_KEY_ID",
    "InvalidClientTokenId": "AWS_ACCESS_KEY_ID",
    "UnrecognizedClientException": "AWS_ACCESS_KEY_ID",
    "SignatureDoesNotMatch": "AWS_SECRET_ACCESS_KEY",
    "IncompleteSignature": "AWS_SECRET_ACCESS_KEY",
    "InvalidToken": "AWS_SESSION_TOKEN",
    "ExpiredToken": "AWS_SESSION_TOKEN",
    "ExpiredTokenException": "AWS_SESSION_TOKEN",
}
_CHAIN = "or the profile or role boto3's default chain picks"


def _probe_config() -> Any:
    from botocore.config import Config

    return Config(
        connect_timeout=PROBE_TIMEOUT_SECONDS,
        read_timeout=PROBE_TIMEOUT_SECONDS,
        retries={"total_max_attempts": 1, "mode": "standard"},
    )


def _probe_client(service: str) -> Any:
    import boto3

    session = boto3.session.Session()
    region = session.region_name or "us-east-1"
    return session.client(service, region_name=region, config=_probe_config())


def s3_probe_client(settings: Settings) -> Any:
    """An S3 client with the registered `s3` resource's settings (resources/object_stores.py).

    S3Resource.get_client() takes no botocore Config and no timeout field (only max_attempts),
    so the client is built here from the resource's fields with a short timeout and no retry.
    """
    import boto3

    resource = s3_for(settings, resolved=True)
    session = boto3.session.Session(profile_name=resource.profile_name)
    return session.client(
        "s3",
        region_name=resource.region_name or session.region_name or "us-east-1",
        endpoint_url=resource.endpoint_url,
        use_ssl=resource.use_ssl,
        verify=resource.verify,
        aws_access_key_id=resource.aws_access_key_id,
        aws_secret_access_key=resource.aws_secret_access_key,
        aws_session_token=resource.aws_session_token,
        config=_probe_config(),
    )


def aws_refusal(where: str, error: Exception, unreachable: str, hint: str) -> StartupCheckError:
    """One line for a failed AWS call: a refused credential names its setting; anything else
    is `where: <unreachable> (<reason>); <hint>`."""
    from botocore.exceptions import ClientError, NoCredentialsError

    if isinstance(error, NoCredentialsError):
        return StartupCheckError(
            f"{where}: no AWS credential found; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
            "(or AWS_PROFILE, or give the pod a role)"
        )
    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", ""))
        message = str(error.response.get("Error", {}).get("Message", "")).strip()
        if code in _REFUSED:
            return StartupCheckError(
                f"{where}: the credential was refused ({code}: {message}); check "
                f"{_REFUSED[code]} ({_CHAIN})"
            )
        if code in ("AccessDenied", "403"):
            return StartupCheckError(
                f"{where}: the credential may not read it ({code}: {message or 'Forbidden'}); "
                f"check its IAM policy and AWS_ACCESS_KEY_ID ({_CHAIN})"
            )
    return StartupCheckError(f"{where}: {unreachable} ({first_line(error)}); {hint}")


def check_source_buckets(settings: Settings) -> str:
    """List one key under every s3:// source location (ListObjectsV2, the reads' permission).

    A missing bucket, a dead endpoint or a refused credential stops the start naming the
    setting, before any partition reads from it."""
    buckets = sources_by_bucket(settings.source_locations, "s3")
    if not buckets:
        return "source buckets: none configured"
    client = s3_probe_client(settings)
    for bucket, sources in buckets.items():
        location = settings.source_locations[sources[0]]
        prefix = location.split("://", 1)[1].partition("/")[2]
        try:
            client.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1)
        except Exception as error:
            where = source_setting(settings.source_locations, sources[0])
            hint = "check the bucket name and AWS_ENDPOINT_URL / AWS_REGION"
            raise aws_refusal(where, error, "the bucket is unreachable", hint) from error
    shown = ", ".join(f"s3://{b} ({', '.join(s)})" for b, s in buckets.items())
    return f"source buckets: {shown} reachable"


def check_cost_explorer(settings: Settings) -> str:
    """FINOPS_SOURCE_AWS_COST_EXPLORER=api: reach the Cost Explorer endpoint and prove the
    credential with STS GetCallerIdentity (free; Cost Explorer bills every request, so none
    is made)."""
    from finops_assets.resources.aws_cost_explorer_api import cost_explorer_client

    if settings.source_locations.get("aws_cost_explorer") != "api":
        return "Cost Explorer: not configured"
    where = source_setting(settings.source_locations, "aws_cost_explorer")
    endpoint = str(cost_explorer_client().meta.endpoint_url)
    try:
        reach_endpoint(endpoint)
    except OSError as error:
        raise StartupCheckError(
            f"{where}: Cost Explorer at {endpoint} is unreachable ({first_line(error)}); check "
            "AWS_ENDPOINT_URL_COST_EXPLORER / AWS_ENDPOINT_URL and the network to AWS"
        ) from error
    try:
        account = _probe_client("sts").get_caller_identity()["Account"]
    except Exception as error:
        unreachable = "STS (the credential check) is unreachable"
        hint = "check AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL"
        raise aws_refusal(where, error, unreachable, hint) from error
    return f"Cost Explorer: {endpoint} reachable, credential of account {account}"
