"""Commitment recommendations: how much steady compute spend to commit, for which term.

Eligible spend is on-demand compute usage: ChargeCategory "Usage", ServiceCategory "Compute", no
CommitmentDiscountId (usage a commitment already covers is net out: it is never counted twice),
PricingCategory "Standard" or unknown. The baseline B is the low percentile (nearest rank, default
p10) of the daily eligible effective cost over the lookback, with days of no spend counted as
zero. Committing B a day (on-demand equivalent) for an offer of discount r costs B * (1 - r) a
day; on a day with spend s it covers min(s, B). Over the lookback:
  coverage = sum(min(s, B)) / sum(s); utilization = sum(min(s, B)) / (B * days);
  monthly savings = (sum(min(s, B)) - B * (1 - r) * days) * 30 / days;
  break-even month (as if paid all upfront): the first month in which the on-demand spend
  avoided so far, 30 * mean(min(s, B)) a month, reaches the prepayment B * (1 - r) * 30 * term.
All in Decimal; amounts rounded half-up once to cents, ratios to 4 places.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal, localcontext

import polars as pl

from finops_assets.domain.money import MONEY, quantize_half_up

RATIO = pl.Decimal(38, 4)
DAYS_PER_MONTH = 30

COMMITMENT_COLUMNS: dict[str, pl.DataType] = {
    "x_charge_date": pl.Date(),
    "x_provider": pl.Utf8(),
    "commitment_type": pl.Utf8(),
    "term_months": pl.Int32(),
    "assumed_discount": RATIO,
    "lookback_days": pl.Int32(),
    "baseline_daily_on_demand": MONEY,
    "hourly_commitment": MONEY,  # what is paid per hour, at the discounted rate
    "expected_coverage": RATIO,
    "expected_utilization": RATIO,
    "estimated_monthly_savings": MONEY,
    "break_even_month": pl.Int32(),
    "owned_commitments": pl.Int32(),
    "covered_daily_cost": MONEY,  # mean daily usage cost already under owned commitments
    "currency": pl.Utf8(),
}


@dataclass(frozen=True)
class CommitmentOffer:
    """A commitment product and the discount assumed against on-demand prices."""

    provider: str
    commitment_type: str
    term_months: int
    discount: Decimal


# Typical public discounts for compute (no upfront list figures, rounded); replace with yours.
DEFAULT_OFFERS: tuple[CommitmentOffer, ...] = (
    CommitmentOffer("aws", "Compute Savings Plan", 12, Decimal("0.27")),
    CommitmentOffer("aws", "Compute Savings Plan", 36, Decimal("0.46")),
    CommitmentOffer("aws", "EC2 Reserved Instance", 12, Decimal("0.36")),
    CommitmentOffer("gcp", "Committed Use Discount (resource)", 12, Decimal("0.37")),
    CommitmentOffer("gcp", "Committed Use Discount (resource)", 36, Decimal("0.55")),
    CommitmentOffer("azure", "Savings Plan for Compute", 12, Decimal("0.25")),
    CommitmentOffer("azure", "Reserved VM Instance", 36, Decimal("0.57")),
)


def low_percentile(values: Sequence[Decimal], percentile: int) -> Decimal:
    """Nearest-rank percentile of Decimal values (exact: one of the values)."""
    ordered = sorted(values)
    rank = max(1, -(-percentile * len(ordered) // 100))
    return ordered[rank - 1]


def _eligible(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.filter(
        (pl.col("ChargeCategory") == "Usage")
        & (pl.col("ServiceCategory") == "Compute")
        & pl.col("CommitmentDiscountId").is_null()
        & (pl.col("PricingCategory").is_null() | (pl.col("PricingCategory") == "Standard"))
    )


def _daily(frame: pl.DataFrame, provider: str, days: list[date]) -> list[Decimal]:
    sums = dict(
        frame.filter(pl.col("x_provider") == provider)
        .group_by("x_charge_date")
        .agg(pl.col("x_effective_cost_base").cast(MONEY).sum())
        .iter_rows()
    )
    return [Decimal(sums.get(d, 0)) for d in days]


def _evaluate(
    offer: CommitmentOffer, spend: list[Decimal], baseline: Decimal
) -> tuple[Decimal, Decimal, Decimal, int]:
    """(coverage, utilization, monthly savings, break-even month) of committing `baseline`."""
    covered = sum((min(s, baseline) for s in spend), Decimal(0))
    total, days = sum(spend, Decimal(0)), len(spend)
    price = baseline * (1 - offer.discount)
    savings = (covered - price * days) * DAYS_PER_MONTH / days
    prepaid = price * DAYS_PER_MONTH * offer.term_months
    monthly_avoided = covered * DAYS_PER_MONTH / days
    months = (prepaid / monthly_avoided).to_integral_value(ROUND_CEILING)
    return covered / total, covered / (baseline * days), savings, int(months)


def commitment_recommendations(
    normalized: pl.DataFrame,
    day: date,
    lookback_days: int = 30,
    percentile: int = 10,
    offers: Sequence[CommitmentOffer] = DEFAULT_OFFERS,
    currency: str = "USD",
) -> pl.DataFrame:
    """Per provider and offer with positive savings: commitment, coverage, savings, break-even.

    `normalized` holds FOCUS rows (base-currency x_effective_cost_base) of the lookback days
    ending on `day`; fewer than `lookback_days` days of data still counts the missing ones as 0.
    """
    days = [day - timedelta(days=n) for n in range(lookback_days)][::-1]
    window = normalized.filter(pl.col("x_charge_date").is_in(days))
    eligible = _eligible(window)
    owned = window.filter(pl.col("CommitmentDiscountId").is_not_null())
    rows = []
    with localcontext() as ctx:
        ctx.prec = 60
        for provider in sorted({o.provider for o in offers}):
            spend = _daily(eligible, provider, days)
            baseline = low_percentile(spend, percentile)
            if baseline <= 0:
                continue
            mine = owned.filter(pl.col("x_provider") == provider)
            usage = mine.filter(pl.col("ChargeCategory") == "Usage")
            covered_daily = sum(_daily(usage, provider, days), Decimal(0)) / lookback_days
            for offer in (o for o in offers if o.provider == provider):
                coverage, utilization, savings, months = _evaluate(offer, spend, baseline)
                if savings <= 0:
                    continue
                hourly = baseline * (1 - offer.discount) / 24
                rows.append(
                    (day, provider, offer.commitment_type, offer.term_months, offer.discount)
                    + (lookback_days, quantize_half_up(baseline, 2), quantize_half_up(hourly, 6))
                    + (quantize_half_up(coverage, 4), quantize_half_up(utilization, 4))
                    + (quantize_half_up(savings, 2), months)
                    + (mine["CommitmentDiscountId"].n_unique(), quantize_half_up(covered_daily, 2))
                    + (currency,)
                )
    return pl.DataFrame(rows, schema=COMMITMENT_COLUMNS, orient="row")
