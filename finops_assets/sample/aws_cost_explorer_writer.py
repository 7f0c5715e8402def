"""Sample Cost Explorer data: one day's GetCostAndUsage response as pages linked by NextPageToken.

Grouped by LINKED_ACCOUNT and SERVICE for the estate's Cost Explorer accounts; when rows_per_day
asks for more groups than account x service gives, grouped by LINKED_ACCOUNT and USAGE_TYPE
(capped at the usage types this writer knows: MAX_GROUPS_PER_ACCOUNT per account).
"""

import base64
import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np

from finops_assets.domain.sources.aws_cost_explorer import RECORDED_IDENTITY_FILE, SOURCE
from finops_assets.sample.estate import Account, accounts_for_source, cost_explorer_payer

# Service -> (daily cost range in USD, usage unit).
SERVICES: dict[str, tuple[float, float, str]] = {
    "Amazon Elastic Compute Cloud - Compute": (40.0, 400.0, "Hrs"),
    "Amazon Simple Storage Service": (5.0, 60.0, "GB-Mo"),
    "Amazon Relational Database Service": (20.0, 150.0, "Hrs"),
    "AWS Lambda": (0.5, 12.0, "Requests"),
    "Amazon CloudFront": (2.0, 30.0, "GB"),
    "Tax": (3.0, 30.0, "N/A"),
}
_FAMILIES = ("m5", "m6i", "m7g", "c5", "c6g", "c7i", "r5", "r6g", "t3", "t4g", "i4i", "g5")
_SIZES = ("medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge")
_KINDS = ("BoxUsage", "SpotUsage", "DedicatedUsage", "EBSOptimized")
MAX_GROUPS_PER_ACCOUNT = len(_FAMILIES) * len(_SIZES) * len(_KINDS)
_AMOUNT_SCALE = 10**10


def _region_prefix(region: str) -> str:
    parts = region.split("-")
    return f"{parts[0][:2].upper()}{parts[1][0].upper()}{parts[-1]}"


def _usage_types(account: Account, count: int) -> list[str]:
    prefix = _region_prefix(account.regions[0] if account.regions else "us-east-1")
    names = [
        f"{prefix}-{kind}:{family}.{size}"
        for kind in _KINDS
        for family in _FAMILIES
        for size in _SIZES
    ]
    return names[:count]


def _amount_text(units: int) -> str:
    """An amount in 1e-10 units as AWS writes it: up to 10 decimals, no trailing zeros."""
    whole, frac = divmod(units, _AMOUNT_SCALE)
    text = f"{whole}.{frac:010d}".rstrip("0").rstrip(".")
    return text or "0"


def _groups(day: dt.date, seed: int, rows_per_day: int) -> tuple[list[dict[str, Any]], str]:
    accounts = accounts_for_source(SOURCE)
    rng = np.random.default_rng([seed, day.toordinal(), 1])
    by_service = rows_per_day <= len(accounts) * len(SERVICES)
    per_account = -(-rows_per_day // len(accounts))
    groups: list[dict[str, Any]] = []
    for account in accounts:
        if by_service:
            keys = [(name, SERVICES[name]) for name in SERVICES]
        else:
            n = min(per_account, MAX_GROUPS_PER_ACCOUNT)
            keys = [(u, (0.01, 25.0, "Hrs")) for u in _usage_types(account, n)]
        low = np.array([k[1][0] for k in keys])
        high = np.array([k[1][1] for k in keys])
        costs = (rng.uniform(low, high) * _AMOUNT_SCALE).astype(np.int64)
        amortized = costs - (costs * rng.uniform(0.0, 0.2, len(keys))).astype(np.int64)
        usage = (rng.uniform(1.0, 5000.0, len(keys)) * _AMOUNT_SCALE).astype(np.int64)
        for (key, (_, _, unit)), cost, amort, qty in zip(
            keys, costs.tolist(), amortized.tolist(), usage.tolist(), strict=True
        ):
            amortized_units = cost if key == "Tax" else amort
            metrics = {
                "AmortizedCost": {"Amount": _amount_text(amortized_units), "Unit": "USD"},
                "NetUnblendedCost": {"Amount": _amount_text(cost), "Unit": "USD"},
                "UnblendedCost": {"Amount": _amount_text(cost), "Unit": "USD"},
                "UsageQuantity": {"Amount": _amount_text(qty), "Unit": unit},
            }
            groups.append({"Keys": [account.account_id, key], "Metrics": metrics})
    return groups, "SERVICE" if by_service else "USAGE_TYPE"


def build_pages(
    day: dt.date, seed: int, rows_per_day: int, *, page_size: int = 50, estimated: bool = False
) -> list[dict[str, Any]]:
    """The day's GetCostAndUsage response pages (DAILY, grouped by account and service)."""
    if page_size < 1:
        raise ValueError("page_size must be at least 1")
    groups, second_key = _groups(day, seed, rows_per_day)
    accounts = accounts_for_source(SOURCE)
    attributes = [{"Value": a.account_id, "Attributes": {"description": a.name}} for a in accounts]
    chunks = [groups[i : i + page_size] for i in range(0, len(groups), page_size)] or [[]]
    pages = []
    for index, chunk in enumerate(chunks, start=1):
        page: dict[str, Any] = {
            "GroupDefinitions": [
                {"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"},
                {"Type": "DIMENSION", "Key": second_key},
            ],
            "ResultsByTime": [
                {
                    "TimePeriod": {
                        "Start": day.isoformat(),
                        "End": (day + dt.timedelta(days=1)).isoformat(),
                    },
                    "Total": {},
                    "Groups": chunk,
                    "Estimated": estimated,
                }
            ],
            "DimensionValueAttributes": attributes,
        }
        if index < len(chunks):
            token = f"{day.isoformat()}:{seed}:{index + 1}".encode()
            page["NextPageToken"] = base64.urlsafe_b64encode(token).decode()
        pages.append(page)
    return pages


def write_day(
    landing_dir: Path,
    day: dt.date,
    seed: int,
    rows_per_day: int,
    *,
    page_size: int = 50,
    estimated: bool = False,
) -> list[Path]:
    """Write landing/aws_cost_explorer/<day>/page-0001.json ... for one day; returns the paths."""
    folder = Path(landing_dir) / SOURCE / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("page-*.json"):
        stale.unlink()
    paths = []
    pages = build_pages(day, seed, rows_per_day, page_size=page_size, estimated=estimated)
    for index, page in enumerate(pages, start=1):
        path = folder / f"page-{index:04d}.json"
        path.write_text(json.dumps(page, indent=2) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def write_caller_identity(landing_dir: Path) -> int:
    """Record the payer's STS GetCallerIdentity answer beside the pages; 1 if the file changed.

    Cost Explorer pages never name the payer whose bill they report; the API path asks STS for
    the caller's account, and the landing folder (the recorded twin) keeps that answer.
    """
    payer = cost_explorer_payer()
    identity = {
        "UserId": "AIDASAMPLEFINOPSREADER",
        "Account": payer,
        "Arn": f"arn:aws:iam::{payer}:user/finops-cost-reader",
    }
    path = Path(landing_dir) / SOURCE / RECORDED_IDENTITY_FILE
    text = json.dumps(identity, indent=2) + "\n"
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return 1
