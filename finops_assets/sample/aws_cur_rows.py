"""Rows of the sample CUR 2.0 export, generated vectorized in chunks of resources x hours.

Amounts are Int64 in 1e-10 USD (the MONEY scale) until the writer formats them as text.
"""

import datetime as dt

import numpy as np
import polars as pl

from finops_assets.sample.aws_cur_catalog import (
    SAVINGS_PLAN_DISCOUNT,
    Export,
    accounts_frame,
    region_prefix,
    variants_frame,
)

TS = pl.Datetime("ms", "UTC")
AMOUNT_COLUMNS = (
    "line_item_usage_amount",
    "line_item_unblended_rate",
    "line_item_unblended_cost",
    "line_item_net_unblended_cost",
    "pricing_public_on_demand_cost",
    "pricing_public_on_demand_rate",
    "reservation_effective_cost",
    "savings_plan_savings_plan_effective_cost",
)
TIME_COLUMNS = (
    "bill_billing_period_start_date",
    "bill_billing_period_end_date",
    "line_item_usage_start_date",
    "line_item_usage_end_date",
)
TEXT_COLUMNS = (
    "identity_line_item_id", "bill_bill_type", "bill_billing_entity", "bill_invoice_id",
    "bill_payer_account_id", "bill_payer_account_name", "line_item_usage_account_id",
    "line_item_usage_account_name", "line_item_line_item_type", "line_item_product_code",
    "line_item_usage_type", "line_item_operation", "line_item_availability_zone",
    "line_item_resource_id", "line_item_currency_code", "line_item_line_item_description",
    "pricing_unit", "product_product_name", "product_product_family", "product_region_code",
    "product_servicecode", "product_sku", "reservation_reservation_a_r_n",
    "savings_plan_savings_plan_a_r_n", "tag_key", "tag_value", "env_value",
)  # fmt: skip
CANON: dict[str, pl.DataType] = {
    **{c: pl.Utf8() for c in TEXT_COLUMNS},
    **{c: TS for c in TIME_COLUMNS},
    **{c: pl.Int64() for c in AMOUNT_COLUMNS},
}
_UNIT_FACTOR = {"usage": 10**6, "rate": 10**4}  # 1e-4 usage and 1e-6 rate -> 1e-10 units
SP_PRODUCT = "ComputeSavingsPlans"


def savings_plan_arn(export: Export) -> str:
    """The sample Compute Savings Plan that covers part of the first account's EC2 usage."""
    payer = export.accounts[0].billing_account_id
    return f"arn:aws:savingsplans::{payer}:savingsplan/5f3c0a5e-7d21-4c8e-9a6b-acme0compute1"


def _resource_ids() -> pl.Expr:
    kind, res = pl.col("kind"), pl.col("resource").cast(pl.Utf8).str.zfill(16)
    acct, name, region = pl.col("account_id"), pl.col("account_name"), pl.col("region")
    arn = pl.concat_str(pl.lit("arn:aws:"), pl.col("service_ns"), pl.lit(":"), region, pl.lit(":"))
    return (
        pl.when(kind.is_in(["ec2", "transfer"]))
        .then(pl.concat_str(pl.lit("i-0"), res))
        .when(kind == "s3")
        .then(pl.concat_str(pl.lit("acme-"), name, pl.lit("-data-"), pl.col("resource")))
        .when(kind == "rds")
        .then(pl.concat_str(arn, acct, pl.lit(":db:"), name, pl.lit("-db-"), pl.col("resource")))
        .when(kind == "nat")
        .then(pl.concat_str(arn, acct, pl.lit(":natgateway/nat-0"), res))
        .otherwise(pl.concat_str(arn, acct, pl.lit(":loadbalancer/app/"), name, pl.lit("/"), res))
    )


def resource_attributes(export: Export, res: pl.DataFrame) -> pl.DataFrame:
    """Resources joined with their account and usage variant, with ids, regions and tags."""
    variants = variants_frame()
    prefixes = {r: region_prefix(r) for a in export.accounts for r in a.regions or ("us-east-1",)}
    frame = res.join(accounts_frame(export), on="account_idx").join(variants, on="variant")
    frame = frame.with_columns(
        region=pl.col("regions").list.get(pl.col("region_pick") % pl.col("regions").list.len()),
        service_ns=pl.col("kind").replace_strict(
            {"rds": "rds", "lb": "elasticloadbalancing"}, default="ec2", return_dtype=pl.Utf8
        ),
        covered=pl.col("sp_candidate") & (pl.col("kind") == "ec2"),
    )
    return frame.with_columns(
        line_item_resource_id=_resource_ids(),
        line_item_usage_type=pl.concat_str(
            pl.col("region").replace_strict(prefixes, return_dtype=pl.Utf8),
            pl.lit("-"),
            pl.col("usage_suffix"),
        ),
    ).sort("resource")


def hourly_rows(
    frame: pl.DataFrame, day: dt.date, export: Export, rng: np.random.Generator
) -> pl.DataFrame:
    """24 hourly usage rows per resource (plus a SavingsPlanNegation row per covered row)."""
    hours = pl.DataFrame({"hour": np.arange(24, dtype=np.int64)})
    rows = frame.join(hours, how="cross")
    low, high = rows["usage_low"].to_numpy(), rows["usage_high"].to_numpy()
    usage = rng.integers(low, high + 1, dtype=np.int64)  # 1e-4 units
    midnight = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    start = pl.lit(midnight).cast(TS) + pl.duration(hours=pl.col("hour"))
    rate = pl.col("rate") * _UNIT_FACTOR["rate"]
    cost = pl.col("usage") * pl.col("rate")  # 1e-4 x 1e-6 = 1e-10 units, exact
    covered = pl.col("covered")
    num, den = SAVINGS_PLAN_DISCOUNT
    rows = rows.with_columns(usage=pl.Series(usage)).with_columns(
        line_item_usage_start_date=start,
        line_item_usage_end_date=start + pl.duration(hours=1),
        line_item_usage_amount=pl.col("usage") * _UNIT_FACTOR["usage"],
        line_item_unblended_rate=rate,
        line_item_unblended_cost=cost,
        line_item_net_unblended_cost=cost,
        pricing_public_on_demand_cost=cost,
        pricing_public_on_demand_rate=rate,
        line_item_line_item_type=pl.when(covered)
        .then(pl.lit("SavingsPlanCoveredUsage"))
        .otherwise(pl.lit("Usage")),
        savings_plan_savings_plan_a_r_n=pl.when(covered).then(pl.lit(savings_plan_arn(export))),
        savings_plan_savings_plan_effective_cost=pl.when(covered).then(cost * num // den),
        line_item_availability_zone=pl.when(pl.col("kind").is_in(["ec2", "rds"])).then(
            pl.col("region") + "a"
        ),
        tag_key=pl.when(pl.col("tagged")).then(pl.col("tag_key")),
        tag_value=pl.when(pl.col("tagged")).then(pl.col("cost_center")),
        env_value=pl.when(pl.col("tagged")).then(pl.col("environment")),
        line_item_line_item_description=pl.concat_str(
            pl.lit("USD "),
            pl.col("rate").cast(pl.Utf8),
            pl.lit(" micro-USD per "),
            pl.col("pricing_unit"),
            pl.lit(" for "),
            pl.col("usage_suffix"),
        ),  # fmt: skip
    )
    rows = _with_common(rows)
    negation = rows.filter(covered).with_columns(
        line_item_line_item_type=pl.lit("SavingsPlanNegation"),
        line_item_unblended_cost=-pl.col("line_item_unblended_cost"),
        line_item_net_unblended_cost=-pl.col("line_item_net_unblended_cost"),
        line_item_usage_amount=pl.lit(0, pl.Int64),
        pricing_public_on_demand_cost=pl.lit(None, pl.Int64),
        savings_plan_savings_plan_effective_cost=pl.lit(None, pl.Int64),
        line_item_line_item_description=pl.lit("SavingsPlanNegation used by covered usage"),
    )
    both = pl.concat([rows, negation])
    return both.select(
        [
            (pl.col(c) if c in both.columns else pl.lit(None)).cast(t).alias(c)
            for c, t in CANON.items()
        ]
    )


def _with_common(rows: pl.DataFrame) -> pl.DataFrame:
    return rows.with_columns(
        bill_bill_type=pl.lit("Anniversary"),
        bill_billing_entity=pl.lit("AWS"),
        bill_payer_account_id=pl.col("payer_id"),
        bill_payer_account_name=pl.col("payer_name"),
        line_item_usage_account_id=pl.col("account_id"),
        line_item_usage_account_name=pl.col("account_name"),
        line_item_product_code=pl.col("product_code"),
        line_item_operation=pl.col("operation"),
        line_item_currency_code=pl.lit("USD"),
        product_product_name=pl.col("product_name"),
        product_product_family=pl.col("product_family"),
        product_region_code=pl.col("region"),
        product_servicecode=pl.col("servicecode"),
        product_sku=pl.concat_str(pl.lit("ACME"), pl.col("variant").cast(pl.Utf8).str.zfill(4)),
    )


def fixed_rows(
    export: Export, day: dt.date, rng: np.random.Generator, commitment: int
) -> pl.DataFrame:
    """Savings Plan fee (hourly), and on the 1st monthly tax and support; credits, refunds."""
    payer = export.accounts[0].billing_account_id
    midnight = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    month = midnight.replace(day=1)
    next_month = (month + dt.timedelta(days=32)).replace(day=1)
    rows: list[dict] = []

    def line(account_idx: int, kind: str, product: str, cost: int, start, end, **extra) -> None:
        acct = export.accounts[account_idx]
        rows.append(
            {
                "bill_payer_account_id": payer,
                "bill_payer_account_name": acct.billing_account_name,
                "line_item_usage_account_id": acct.account_id,
                "line_item_usage_account_name": acct.name,
                "line_item_line_item_type": kind,
                "line_item_product_code": product,
                "line_item_usage_start_date": start,
                "line_item_usage_end_date": end,
                "line_item_currency_code": "USD",
                "line_item_unblended_cost": cost,
                "line_item_net_unblended_cost": cost,
                "bill_bill_type": "Anniversary",
                "bill_billing_entity": "AWS",
                "product_region_code": (acct.regions or ("us-east-1",))[0],
                **extra,
            }
        )

    if commitment > 0:
        for hour in range(24):
            start = midnight + dt.timedelta(hours=hour)
            line(0, "SavingsPlanRecurringFee", SP_PRODUCT, commitment, start,
                 start + dt.timedelta(hours=1), line_item_usage_type="ComputeSP:1yrNoUpfront",
                 savings_plan_savings_plan_a_r_n=savings_plan_arn(export),
                 line_item_line_item_description="1 year No Upfront Compute Savings Plan")  # fmt: skip
    if day.day == 1:
        for idx, acct in enumerate(export.accounts):
            tax = int(rng.integers(1_000, 90_000)) * 10**8
            line(idx, "Tax", "AmazonEC2", tax, month, next_month,
                 line_item_line_item_description=f"Tax for account {acct.account_id}")  # fmt: skip
        support = int(rng.integers(10_000, 80_000)) * 10**8
        line(0, "Fee", "AWSSupportBusiness", support, month, next_month,
             product_product_name="AWS Support (Business)", product_servicecode="AWSSupportBusiness",
             line_item_line_item_description="AWS Support (Business) monthly fee")  # fmt: skip
    if rng.random() < 0.3:
        credit = -int(rng.integers(500, 5_000)) * 10**8
        line(len(export.accounts) - 1, "Credit", "AmazonEC2", credit, midnight,
             midnight + dt.timedelta(days=1),
             line_item_line_item_description="AWS Promotional Credit")  # fmt: skip
    if rng.random() < 0.1:
        refund = -int(rng.integers(100, 2_000)) * 10**8
        line(min(1, len(export.accounts) - 1), "Refund", "AmazonS3", refund, midnight,
             midnight + dt.timedelta(days=1), line_item_line_item_description="Refund")  # fmt: skip
    return pl.from_dicts(rows, schema=CANON) if rows else pl.DataFrame(schema=CANON)
