"""What the sample CUR bills: the usage variants (product, usage type, rate) and the resources.

Rates are integers in 1e-6 USD and hourly usage in 1e-4 units, so cost = usage x rate is an exact
integer in 1e-10 USD (the MONEY scale): the sample never computes money with floats.
"""

from dataclasses import dataclass

import numpy as np
import polars as pl

from finops_assets.sample.estate import COST_CENTER_TAG_SPELLINGS, Account

# kind, product code, service code, product name, family, operation, unit, usage type suffix,
# rate (1e-6 USD per unit), hourly usage low/high (1e-4 units)
VARIANTS: tuple[tuple[str, str, str, str, str, str, str, str, int, int, int], ...] = (
    ("ec2", "AmazonEC2", "AmazonEC2", "Amazon Elastic Compute Cloud", "Compute Instance",
     "RunInstances", "Hrs", "BoxUsage:t3.medium", 41_600, 10_000, 10_000),
    ("ec2", "AmazonEC2", "AmazonEC2", "Amazon Elastic Compute Cloud", "Compute Instance",
     "RunInstances", "Hrs", "BoxUsage:m5.large", 96_000, 10_000, 10_000),
    ("ec2", "AmazonEC2", "AmazonEC2", "Amazon Elastic Compute Cloud", "Compute Instance",
     "RunInstances", "Hrs", "BoxUsage:c6g.xlarge", 136_000, 10_000, 10_000),
    ("ec2", "AmazonEC2", "AmazonEC2", "Amazon Elastic Compute Cloud", "Compute Instance",
     "RunInstances", "Hrs", "BoxUsage:m6i.4xlarge", 768_000, 10_000, 10_000),
    ("s3", "AmazonS3", "AmazonS3", "Amazon Simple Storage Service", "Storage",
     "StandardStorage", "GB-Mo", "TimedStorage-ByteHrs", 23_000, 100, 50_000),
    ("rds", "AmazonRDS", "AmazonRDS", "Amazon Relational Database Service", "Database Instance",
     "CreateDBInstance:0002", "Hrs", "InstanceUsage:db.r5.large", 240_000, 10_000, 10_000),
    ("rds", "AmazonRDS", "AmazonRDS", "Amazon Relational Database Service", "Database Instance",
     "CreateDBInstance:0014", "Hrs", "InstanceUsage:db.m6g.2xlarge", 1_232_000, 10_000, 10_000),
    ("transfer", "AmazonEC2", "AWSDataTransfer", "Amazon Elastic Compute Cloud", "Data Transfer",
     "RunInstances", "GB", "DataTransfer-Out-Bytes", 90_000, 1_000, 500_000),
    ("nat", "AmazonEC2", "AmazonEC2", "Amazon Elastic Compute Cloud", "NAT Gateway",
     "NatGateway", "Hrs", "NatGateway-Hours", 45_000, 10_000, 10_000),
    ("nat", "AmazonEC2", "AmazonEC2", "Amazon Elastic Compute Cloud", "NAT Gateway",
     "NatGateway", "GB", "NatGateway-Bytes", 45_000, 5_000, 2_000_000),
    ("lb", "AWSELB", "AWSELB", "Elastic Load Balancing", "Load Balancer-Application",
     "LoadBalancing:Application", "Hrs", "LoadBalancerUsage", 22_500, 10_000, 10_000),
)  # fmt: skip
VARIANT_COLUMNS = (
    "kind", "product_code", "servicecode", "product_name", "product_family", "operation",
    "pricing_unit", "usage_suffix", "rate", "usage_low", "usage_high",
)  # fmt: skip
# Weights of each variant for an application account and for the shared networking account.
APP_WEIGHTS = np.array([0.14, 0.14, 0.1, 0.06, 0.16, 0.08, 0.04, 0.28, 0, 0, 0])
NETWORK_WEIGHTS = np.array([0, 0, 0, 0, 0, 0, 0, 0.1, 0.3, 0.3, 0.3])
UNTAGGED_SHARE = 0.2
SAVINGS_PLAN_SHARE = 0.5  # of the EC2 instances of the first account
SAVINGS_PLAN_DISCOUNT = (72, 100)  # effective cost = on-demand x 72 / 100

_REGION_PREFIX = {
    "us-east-1": "USE1",
    "us-west-2": "USW2",
    "eu-west-1": "EU",
    "eu-central-1": "EUC1",
}


@dataclass(frozen=True)
class Export:
    """One CUR 2.0 data export: its file name stem, format and the accounts it bills."""

    name: str
    file_format: str  # "parquet" | "csv"
    accounts: tuple[Account, ...]


def variants_frame() -> pl.DataFrame:
    """The usage variants as a frame, one row per variant, with its index."""
    frame = pl.DataFrame(list(VARIANTS), schema=list(VARIANT_COLUMNS), orient="row")
    return frame.with_row_index("variant").with_columns(pl.col("variant").cast(pl.Int64))


def region_prefix(region: str) -> str:
    """The usage type prefix AWS puts before a region's usage types (USE1-...)."""
    return _REGION_PREFIX.get(region, region.upper().replace("-", "")[:4])


def resources(export: Export, count: int, rng: np.random.Generator) -> pl.DataFrame:
    """`count` billable resources spread over the export's accounts (one row per resource)."""
    n_accounts = len(export.accounts)
    account_idx = np.sort(rng.integers(0, n_accounts, count))
    account_idx[:n_accounts] = np.arange(n_accounts)  # every account bills something
    account_idx.sort()
    shared = np.array([a.business_unit is None and "network" in a.name for a in export.accounts])
    variant = np.where(
        shared[account_idx],
        rng.choice(len(VARIANTS), count, p=NETWORK_WEIGHTS),
        rng.choice(len(VARIANTS), count, p=APP_WEIGHTS),
    )
    spelling = rng.integers(0, len(COST_CENTER_TAG_SPELLINGS), count)
    tagged = rng.random(count) >= UNTAGGED_SHARE
    covered = (rng.random(count) < SAVINGS_PLAN_SHARE) & (account_idx == 0)
    region_idx = rng.integers(0, 1 << 16, count)
    return pl.DataFrame(
        {
            "resource": np.arange(count, dtype=np.int64),
            "account_idx": account_idx.astype(np.int64),
            "variant": variant.astype(np.int64),
            "tag_key": spelling.astype(np.int64),
            "tagged": tagged,
            "sp_candidate": covered,
            "region_pick": region_idx.astype(np.int64),
        }
    ).with_columns(
        tag_key=pl.lit("user_")
        + pl.col("tag_key").replace_strict(
            dict(enumerate(COST_CENTER_TAG_SPELLINGS)), return_dtype=pl.Utf8
        )
    )


def accounts_frame(export: Export) -> pl.DataFrame:
    """Account attributes by index: id, name, payer, region list and cost-center tag value."""
    return pl.DataFrame(
        {
            "account_idx": list(range(len(export.accounts))),
            "account_id": [a.account_id for a in export.accounts],
            "account_name": [a.name for a in export.accounts],
            "payer_id": [a.billing_account_id for a in export.accounts],
            "payer_name": [a.billing_account_name for a in export.accounts],
            "regions": [list(a.regions or ("us-east-1",)) for a in export.accounts],
            "cost_center": [a.business_unit or a.name for a in export.accounts],
            "environment": ["sandbox" if a.name == "sandbox" else "prod" for a in export.accounts],
        },
        schema_overrides={"account_idx": pl.Int64},
    )
