"""Where the sample estate's export files land: each provider's billing-period delivery layout.

The day writers produce one day's files; the export sources are then laid out as their
providers deliver them, in the landing layout that the landing sensor and `finops load` read,
`<source>/<YYYYMMDD-YYYYMMDD>/<export>/` (first and last charge day of the period, so a
month-to-date delivery names the days it holds):

- `aws_cur`: AWS Data Exports (CUR 2.0) write one file set per `BILLING_PERIOD` month, parts
  `<export>-00001...` (here one part per charge day, numbered by day of month), with an
  `<export>-Manifest.json` whose `dataFiles` list every part.
- `gcp_billing_export`: files extracted from the BigQuery export table by day, gathered per
  month; GCP writes no manifest.
- `focus_export`: OCI's FOCUS reports, one CSV per day, gathered per month; OCI writes no
  manifest.

Cost Explorer and the Azure Query API are API answers (recorded pages per day), and Kubernetes
usage and utilization have no provider delivery layout: those stay in `<source>/<YYYY-MM-DD>/`.
"""

import datetime as dt
import hashlib
import json
import re

from finops_assets.resources.payloads import period_folder_name

PERIOD_SOURCES = ("aws_cur", "gcp_billing_export", "focus_export")
EXPORT_BUCKET = "acme-billing-exports"
_CUR_PART = re.compile(r"^(?P<export>.+)-00001(?P<suffix>\..+)$")
_GCP_DAY = re.compile(r"_\d{8}_")
_FOCUS_DAY = re.compile(r"-\d{4}-\d{2}-\d{2}(?=\.)")


def period_spans(window: list[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """The window's days per calendar month: (first, last) charge day of each delivery."""
    spans: dict[tuple[int, int], tuple[dt.date, dt.date]] = {}
    for day in sorted(window):
        first, _ = spans.get((day.year, day.month), (day, day))
        spans[(day.year, day.month)] = (first, day)
    return list(spans.values())


def landed_name(source: str, name: str, day: dt.date) -> tuple[str, str]:
    """A day writer's file -> (export, file name) inside the period folder."""
    if source == "aws_cur":
        match = _CUR_PART.fullmatch(name)
        if match is None:
            raise ValueError(f"{name}: not a CUR 2.0 part name of the sample writer")
        export = match["export"]
        return export, f"{export}-{day.day:05d}{match['suffix']}"
    if source == "gcp_billing_export":
        stem = name.split(".", 1)[0]
        return _GCP_DAY.sub("_", stem), name
    if source == "focus_export":
        return _FOCUS_DAY.sub("", name).split(".", 1)[0], name
    raise ValueError(f"{source}: not an export source with a billing-period layout")


def holds_day(source: str, name: str, day: dt.date) -> bool:
    """True for a landed data file of `source` that holds the charge day `day`."""
    if source == "aws_cur":
        return f"-{day.day:05d}." in name
    if source == "gcp_billing_export":
        return f"_{day:%Y%m%d}_" in name
    return f"-{day.isoformat()}." in name


def period_folder(source: str, span: tuple[dt.date, dt.date], export: str) -> str:
    """`<source>/<YYYYMMDD-YYYYMMDD>/<export>`, relative to the landing folder."""
    return f"{source}/{period_folder_name(*span)}/{export}"


def manifest(
    source: str, export: str, span: tuple[dt.date, dt.date], files: dict[str, bytes]
) -> tuple[str, bytes] | None:
    """The delivery's manifest (name, bytes) where the provider writes one, else None.

    AWS Data Exports: `<export>-Manifest.json` naming every data file by its S3 URI under
    `data/BILLING_PERIOD=YYYY-MM/`; the execution id is derived from the files' bytes, so the
    same delivery gives the same manifest.
    """
    if source != "aws_cur":
        return None
    period = f"BILLING_PERIOD={span[0]:%Y-%m}"
    prefix = f"s3://{EXPORT_BUCKET}/cur2/{export}/data/{period}"
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    following = (span[0].replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    document = {
        "executionId": digest.hexdigest()[:32],
        "exportArn": f"arn:aws:bcm-data-exports:us-east-1:000000000000:export/{export}",
        "exportName": export,
        "billingPeriod": {
            "start": f"{span[0].replace(day=1).isoformat()}T00:00:00.000Z",
            "end": f"{following.isoformat()}T00:00:00.000Z",
        },
        "dataFiles": [f"{prefix}/{name}" for name in sorted(files)],
    }
    return f"{export}-Manifest.json", (json.dumps(document, indent=2) + "\n").encode()
