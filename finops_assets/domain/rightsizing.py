"""Rightsizing: a smaller size from a priced catalog for resources that stay underused.

A resource qualifies when it has at least `min_days` days of utilization in the lookback window
and on every one of them the daily p95 CPU and p95 memory stay under the thresholds. The new size
is the cheapest one of the same provider and family whose vCPUs and memory hold the peak p95 load
at the target utilization (`needed = current * p95_max / target`), when it is cheaper than the
current size. Savings: the resource's observed monthly cost (its allocated effective cost in the
window, scaled to 30 days) times the price cut (1 - new / current); without observed cost, the
list price difference for 730 hours. Money is Decimal, rounded half-up once to the currency.
"""

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation, localcontext

import polars as pl

from finops_assets.domain.money import MONEY, quantize_half_up

HOURS_PER_MONTH = 730
DAYS_PER_MONTH = 30

RIGHTSIZING_COLUMNS: dict[str, pl.DataType] = {
    "x_charge_date": pl.Date(),
    "x_provider": pl.Utf8(),
    "resource_id": pl.Utf8(),
    "x_business_unit": pl.Utf8(),
    "current_size": pl.Utf8(),
    "recommended_size": pl.Utf8(),
    "days_observed": pl.Int32(),
    "cpu_p95_max": pl.Float64(),
    "memory_p95_max": pl.Float64(),
    "observed_monthly_cost": MONEY,
    "estimated_monthly_savings": MONEY,
    "currency": pl.Utf8(),
}


class CatalogError(ValueError):
    """The instance catalog is invalid; the message names the line and the problem."""


@dataclass(frozen=True)
class InstanceSize:
    """One priced size of the catalog."""

    provider: str
    family: str
    size: str
    vcpu: int
    memory_gib: Decimal
    hourly_price: Decimal
    currency: str


@dataclass(frozen=True)
class RightsizingPolicy:
    """When a resource counts as underused, and how much headroom the new size keeps."""

    lookback_days: int = 14
    min_days: int = 7
    cpu_threshold: float = 40.0
    memory_threshold: float = 50.0
    target_percent: float = 70.0


def load_instance_catalog(text: str) -> dict[str, InstanceSize]:
    """Parse the catalog CSV (prices as decimal text) into size -> InstanceSize."""
    catalog: dict[str, InstanceSize] = {}
    for line, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        try:
            entry = InstanceSize(
                row["provider"],
                row["family"],
                row["size"],
                int(row["vcpu"]),
                Decimal(row["memory_gib"]),
                Decimal(row["hourly_price"]),
                row["currency"],
            )
        except (KeyError, ValueError, TypeError, InvalidOperation) as error:
            raise CatalogError(f"instance catalog line {line}: {error!r}") from None
        if entry.hourly_price <= 0 or entry.vcpu <= 0 or entry.memory_gib <= 0:
            raise CatalogError(f"instance catalog line {line}: size, memory and price must be > 0")
        if entry.size in catalog:
            raise CatalogError(f"instance catalog line {line}: duplicate size {entry.size}")
        catalog[entry.size] = entry
    return catalog


def smaller_size(
    current: InstanceSize,
    cpu_p95: float,
    memory_p95: float,
    catalog: dict[str, InstanceSize],
    target_percent: float,
) -> InstanceSize | None:
    """The cheapest size of the same family that holds the load at `target_percent`, if cheaper."""
    needed_vcpu = current.vcpu * cpu_p95 / target_percent
    needed_memory = float(current.memory_gib) * memory_p95 / target_percent
    fitting = [
        s
        for s in catalog.values()
        if s.provider == current.provider
        and s.family == current.family
        and s.vcpu >= needed_vcpu
        and float(s.memory_gib) >= needed_memory
        and s.hourly_price < current.hourly_price
    ]
    return min(fitting, key=lambda s: (s.hourly_price, s.size)) if fitting else None


def _monthly_savings(
    current: InstanceSize, new: InstanceSize, observed_cost: Decimal | None, days: int
) -> tuple[Decimal | None, Decimal]:
    with localcontext() as ctx:
        ctx.prec = 60
        if observed_cost is not None and observed_cost > 0:
            monthly = observed_cost * DAYS_PER_MONTH / days
            savings = monthly * (1 - new.hourly_price / current.hourly_price)
            return quantize_half_up(monthly, 2), quantize_half_up(savings, 2)
        savings = (current.hourly_price - new.hourly_price) * HOURS_PER_MONTH
        return None, quantize_half_up(savings, 2)


def rightsizing_recommendations(
    utilization: pl.DataFrame,
    costs: pl.DataFrame,
    catalog: dict[str, InstanceSize],
    day: object,
    policy: RightsizingPolicy = RightsizingPolicy(),
    base_currency: str = "USD",
) -> pl.DataFrame:
    """Recommendations as of `day` from daily p95 utilization and allocated cost per ResourceId.

    `utilization` has UTILIZATION_COLUMNS over the lookback window; `costs` has ResourceId,
    x_business_unit and x_effective_cost_base over the same window (`base_currency`). Savings
    are in the base currency when observed cost is known, else in the catalog's currency.
    """
    per_resource = utilization.group_by("x_provider", "resource_id").agg(
        pl.col("size").last(),
        pl.col("x_charge_date").n_unique().alias("days"),
        pl.col("cpu_p95").max().alias("cpu_max"),
        pl.col("memory_p95").max().alias("memory_max"),
    )
    owners = _owners(costs)
    rows = []
    for row in per_resource.sort("x_provider", "resource_id").iter_rows(named=True):
        current = catalog.get(row["size"])
        if current is None or row["days"] < policy.min_days or row["cpu_max"] is None:
            continue
        memory = row["memory_max"] if row["memory_max"] is not None else 0.0
        if row["cpu_max"] >= policy.cpu_threshold or memory >= policy.memory_threshold:
            continue
        new = smaller_size(current, row["cpu_max"], memory, catalog, policy.target_percent)
        if new is None:
            continue
        unit, cost = owners.get(row["resource_id"], (None, None))
        monthly, savings = _monthly_savings(current, new, cost, row["days"])
        rows.append(
            (day, row["x_provider"], row["resource_id"], unit, current.size, new.size)
            + (row["days"], row["cpu_max"], memory, monthly, savings)
            + (base_currency if monthly is not None else new.currency,)
        )
    return pl.DataFrame(rows, schema=RIGHTSIZING_COLUMNS, orient="row")


def _owners(costs: pl.DataFrame) -> dict[str, tuple[str | None, Decimal]]:
    """ResourceId -> (the business unit carrying most of its cost, its total cost)."""
    if costs.is_empty():
        return {}
    per_unit = costs.group_by("ResourceId", "x_business_unit").agg(
        pl.col("x_effective_cost_base").cast(MONEY).sum().alias("cost")
    )
    result: dict[str, tuple[str | None, Decimal]] = {}
    ordered = per_unit.sort(
        "ResourceId", "cost", "x_business_unit", descending=[False, True, False]
    )
    for resource, unit, cost in ordered.iter_rows():
        if resource is None:
            continue
        top_unit, total = result.get(resource, (unit, Decimal(0)))
        result[resource] = (top_unit, total + Decimal(cost))
    return result


def total_savings(recommendations: pl.DataFrame) -> Decimal:
    """The sum of estimated monthly savings (Decimal)."""
    return sum((Decimal(v) for v in recommendations["estimated_monthly_savings"]), Decimal(0))


def sizes_of_family(catalog: dict[str, InstanceSize], provider: str) -> Sequence[InstanceSize]:
    """The catalog's sizes of one provider, cheapest first."""
    return sorted(
        (s for s in catalog.values() if s.provider == provider), key=lambda s: s.hourly_price
    )
