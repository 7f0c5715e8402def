"""Export files (CUR 2.0 / Data Exports, FOCUS, any file source) in S3, via dagster-aws.

Selected with FINOPS_SOURCE_<SOURCE>=s3://bucket/prefix. Layout, the same as the landing
folder: `s3://<bucket>/<prefix>/<source>/<YYYY-MM-DD>/<file>` (a sync job or an S3 replication
rule puts the provider's files there, one folder per charge day). Only files directly in the
day folder are read; names starting with a dot or ending in .tmp are skipped; any other key that
does not match the landing key pattern, or sits in a deeper folder, is refused with its name.

AWS's native layouts are read when the location says so, explicitly (no guessing from folder
names), one export per location:
- `?layout=cur2` (Data Exports: CUR 2.0, FOCUS): FINOPS_SOURCE_AWS_CUR=s3://bucket/p/<export>
  reads `data/BILLING_PERIOD=YYYY-MM/<file>`, the delivery named by the newest
  `metadata/BILLING_PERIOD=YYYY-MM/<export>-Manifest.json`;
- `?layout=cur` (legacy CUR): s3://bucket/p/<report> reads `<YYYYMMDD-YYYYMMDD>/<assemblyId>/`,
  only the assembly that `<YYYYMMDD-YYYYMMDD>/<report>-Manifest.json` names.
domain.delivery_layouts decides which files are the current delivery. AWS rewrites them with
the whole billing period to date, so day D fetches its period's delivery, each file one payload
marked `spans_days`: the pipeline keeps D's rows and leaves the other days' rows to their own
partitions instead of quarantining them.

The client is dagster-aws's S3Resource (boto3 underneath): credentials from boto3's default
chain, endpoint from AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_S3 (boto3 reads them itself). Each
object is read at the ETag it was listed with (IfMatch), so a file rewritten between the listing
and the download fails the run instead of mixing two versions; fetched_at is its LastModified.
"""

import datetime as dt
from typing import TYPE_CHECKING, Any

from dagster_aws.s3 import S3Resource

from finops_assets.domain.delivery_layouts import Listed
from finops_assets.resources.bucket_periods import BucketReader, period_payloads
from finops_assets.resources.payloads import (
    LandingError,
    Payload,
    PayloadSource,
    bucket_file_name,
    day_key,
)
from finops_assets.security.hardening import LANDING_KEY_PATTERN

if TYPE_CHECKING:
    from finops_assets.resources.source_readers import BucketClients
from finops_assets.settings import Settings, SettingsError

LAYOUTS = ("days", "cur2", "cur")


def parse_location(location: str) -> tuple[str, str]:
    """`s3://bucket/prefix[?layout=...]` -> (bucket, prefix without surrounding slashes)."""
    if not location.lower().startswith("s3://"):
        raise SettingsError(f"{location!r} is not an s3://bucket/prefix location")
    bucket, _, prefix = location[len("s3://") :].partition("?")[0].partition("/")
    if not bucket:
        raise SettingsError(f"{location!r} names no bucket")
    return bucket, prefix.strip("/")


def location_layout(location: str) -> str:
    """'cur2' (Data Exports folders), 'cur' (legacy CUR) for `...?layout=`, else 'days'."""
    query = location.partition("?")[2]
    layout = query.removeprefix("layout=") if query else "days"
    if layout not in LAYOUTS or (query and not query.startswith("layout=")):
        raise SettingsError(f"{location!r}: the only option is ?layout=, one of {LAYOUTS}")
    return layout


def period_prefix(prefix: str, day: dt.date) -> str:
    """The key prefix of the billing period (month) of `day` in the native CUR 2.0 layout."""
    return "/".join(p for p in (prefix, "data", f"BILLING_PERIOD={day:%Y-%m}") if p) + "/"


def day_prefix(prefix: str, source: str, day: dt.date | str) -> str:
    """The key prefix of one source's day folder, ending in '/'."""
    day_text = day if isinstance(day, str) else day.isoformat()
    return "/".join(p for p in (prefix, source, day_text) if p) + "/"


def export_file_name(key: str, folder: str) -> str | None:
    """The file name of `key` in `folder`; None for hidden or temporary files.

    Raises LandingError for names outside the landing pattern or in a deeper folder.
    """
    layout = (
        "expected <prefix>/<source>/<YYYY-MM-DD>/<file> with a file name "
        f"matching {LANDING_KEY_PATTERN.pattern} directly in the day folder"
    )
    try:
        name = bucket_file_name(key, folder)  # refuses traversal and names outside the pattern
    except LandingError as error:
        raise LandingError(f"s3 {error}; {layout}") from None
    if name is None and "/" in key[len(folder) :]:
        raise LandingError(f"s3 key {key!r} is in a deeper folder: {layout}")
    return name


def list_day(client: Any, bucket: str, folder: str) -> list[dict[str, Any]]:
    """Objects under `folder` (all pages), sorted by key."""
    objects: list[dict[str, Any]] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=folder):
        objects.extend(page.get("Contents", []))
    return sorted(objects, key=lambda o: o["Key"])


class S3Exports(PayloadSource):
    """Billing export files under s3://bucket/prefix/<source>/<day>/."""

    def __init__(self, bucket: str, prefix: str, client: Any, layout: str = "days"):
        self.bucket = bucket
        self.prefix = prefix
        self.client = client
        self.layout = layout
        self._reader: S3Reader | None = None

    def fetch(self, source: str, day: dt.date) -> list[Payload]:
        """Every export file of `source` for `day`, byte for byte, in key order."""
        day_key(source, day)  # refuses a source name that could escape its folder
        if self.layout != "days":
            return self._fetch_period(source, day)
        folder = day_prefix(self.prefix, source, day)
        payloads = []
        for obj in list_day(self.client, self.bucket, folder):
            name = export_file_name(obj["Key"], folder)
            if name is None:
                continue
            data = self._read(obj)
            fetched_at = obj["LastModified"].astimezone(dt.UTC).replace(microsecond=0)
            payloads.append(Payload(f"{source}/{day.isoformat()}/{name}", data, fetched_at))
        return payloads

    def _fetch_period(self, source: str, day: dt.date) -> list[Payload]:
        """The files of the current deliveries of day's billing period (bucket_periods)."""
        if self._reader is None:
            self._reader = S3Reader(self)  # one reader per run: each object read once
        return period_payloads(self._reader, self.layout, source, day)

    def _read(self, obj: dict[str, Any]) -> bytes:
        key = obj["Key"]
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key, IfMatch=obj["ETag"])
        except self.client.exceptions.ClientError as error:
            code = error.response.get("Error", {}).get("Code", "error")
            raise LandingError(
                f"s3://{self.bucket}/{key}: cannot read the listed version ({code}); "
                "it was probably rewritten during ingestion: run the day again"
            ) from error
        return response["Body"].read()


class S3Reader(BucketReader):
    """The objects under an S3Exports location, each read at the ETag it was listed with."""

    def __init__(self, exports: S3Exports):
        super().__init__()
        self.exports = exports
        self.uri = f"s3://{exports.bucket}/{exports.prefix}"

    def list(self) -> list[Listed]:
        head = f"{self.exports.prefix}/" if self.exports.prefix else ""
        return [
            Listed(obj["Key"][len(head) :], obj["ETag"], obj["LastModified"])
            for obj in list_day(self.exports.client, self.exports.bucket, head)
        ]

    def fetch(self, obj: Listed) -> bytes:
        head = f"{self.exports.prefix}/" if self.exports.prefix else ""
        return self.exports._read({"Key": head + obj.key, "ETag": obj.version})


def from_location(
    location: str, settings: Settings, clients: "BucketClients | None" = None
) -> S3Exports:
    """FINOPS_SOURCE_<SOURCE>=s3://bucket/prefix -> export files read from that prefix.

    The client is the registered `s3` resource's (clients); without one, an S3Resource with
    boto3's default chain (endpoint and credentials from AWS_*).
    """
    bucket, prefix = parse_location(location)
    client = clients.s3() if clients else S3Resource().get_client()
    return S3Exports(bucket, prefix, client, location_layout(location))
