"""Driver weights of the shared pools: how one day's pool of a shared rule splits over units.

A driver is measured on the day's directly allocated rows (tag and hierarchy tiers):
compute_cost = base-currency EffectiveCost of Compute rows, network_bytes = ConsumedQuantity of
byte-like units (in GB), request_share = ConsumedQuantity of request units, fixed = the rule's
percentages, even = equal, k8s_usage = namespace weights of the cluster (k8s.namespace_weights)
mapped to units by the hierarchy's k8s_namespace rules, weighted as the rule's `k8s` options say
(k8s_split: AWS's 9:1 by default); the rule's shared namespaces spread over the others, and
unmapped namespaces are left out before normalizing (spread proportionally). A driver whose total is
zero falls back to an even split, recorded as "even(fallback:<driver>)".
"""

import json
from decimal import Decimal

import polars as pl

from finops_assets.domain.allocate_external import (
    has_quantity,
    quantity_measures,
    split_weights,
    unmapped_keys,
)
from finops_assets.domain.allocate_split import SHARE, SHARE_SCALE
from finops_assets.domain.k8s import namespace_weights
from finops_assets.domain.k8s_idle import IDLE_NAMESPACE, idle_by_day
from finops_assets.domain.k8s_split import AWS_SPLIT, K8sSplit
from finops_assets.domain.money import MONEY, multiply_exact_expr, split_largest_remainder
from finops_assets.domain.rules import UNALLOCATED, AllocationRules, SharedRule

# ConsumedUnit (lower case) -> factor to gigabytes, for the network_bytes driver.
BYTE_UNITS_TO_GB = {
    "bytes": Decimal("1e-9"),
    "byte": Decimal("1e-9"),
    "b": Decimal("1e-9"),
    "kb": Decimal("1e-6"),
    "mb": Decimal("1e-3"),
    "gb": Decimal(1),
    "gigabytes": Decimal(1),
    "tb": Decimal(1000),
    "kib": Decimal("1.024e-6"),
    "mib": Decimal("0.001048576"),
    "gib": Decimal("1.073741824"),
    "tib": Decimal("1099.511627776"),
}

PART_COLUMNS: dict[str, pl.DataType] = {
    "_shared_rule": pl.Utf8(),
    "x_charge_date": pl.Date(),
    "x_business_unit": pl.Utf8(),
    "_unit_pos": pl.Int64(),  # position of the unit in the pool, by name
    "_w": pl.Int128(),  # share * SHARE_UNITS
    "x_allocation_share": SHARE,
    "x_allocation_driver": pl.Utf8(),
    "AllocatedMethodDetails": pl.Utf8(),
}
_WEIGHTS = {"x_charge_date": pl.Date(), "unit": pl.Utf8(), "weight": MONEY}
# Drivers measured on the directly allocated rows: their measures add up over row chunks.
ROW_DRIVERS = ("compute_cost", "network_bytes", "request_share")
MEASURE_COLUMNS: dict[str, pl.DataType] = {"driver": pl.Utf8(), **_WEIGHTS}


def _summed(frame: pl.DataFrame, value: pl.Expr) -> pl.DataFrame:
    return (
        frame.group_by("x_charge_date", pl.col("_unit").alias("unit"))
        .agg(value.sum().cast(MONEY).alias("weight"))
        .select([pl.col(c).cast(t) for c, t in _WEIGHTS.items()])
    )


def measured_weights(
    direct: pl.DataFrame,
    driver: str,
    rules: AllocationRules,
    k8s_usage: pl.DataFrame | None,
    k8s_split: K8sSplit = AWS_SPLIT,
) -> pl.DataFrame:
    """Per day and unit, the raw measure of a measured driver (empty for fixed and even).

    k8s_usage weighs namespaces as the rule's `k8s_split` says (resource weights, shared
    namespaces), then maps them to units.
    """
    unit = pl.col("ConsumedUnit").str.strip_chars().str.to_lowercase()
    if driver == "compute_cost":
        compute = direct.filter(pl.col("ServiceCategory") == "Compute")
        return _summed(compute, pl.col("x_effective_cost_base"))
    if driver == "network_bytes":
        factor = unit.replace_strict(BYTE_UNITS_TO_GB, default=None, return_dtype=MONEY)
        rows = direct.with_columns(factor.alias("_gb")).filter(pl.col("_gb").is_not_null())
        return _summed(rows, multiply_exact_expr(pl.col("ConsumedQuantity"), pl.col("_gb"), 10))
    if driver == "request_share":
        rows = direct.filter(unit.str.contains("request"))
        return _summed(rows, pl.col("ConsumedQuantity"))
    if driver == "k8s_usage" and k8s_usage is not None and not k8s_usage.is_empty():
        mapping = rules.namespace_units()
        if k8s_split.idle_unit is not None:
            mapping[IDLE_NAMESPACE] = k8s_split.idle_unit
        weights = namespace_weights(k8s_usage, k8s_split).with_columns(
            pl.col("namespace")
            .str.to_lowercase()
            .replace_strict(mapping, default=None, return_dtype=pl.Utf8)
            .alias("_unit")
        )
        return _summed(weights.filter(pl.col("_unit").is_not_null()), pl.col("weight"))
    return pl.DataFrame(schema=_WEIGHTS)


def row_driver_measures(direct: pl.DataFrame, rules: AllocationRules) -> pl.DataFrame:
    """MEASURE_COLUMNS: per row driver the shared rules use, day and unit, the summed measure.

    Additive: the measures of a day's rows in several chunks, summed per (driver, day, unit)
    (sum_measures), equal the measures of the whole day.
    """
    drivers = sorted({r.driver for r in rules.shared if r.split_by is None} & set(ROW_DRIVERS))
    frames = [
        measured_weights(direct, d, rules, None).select(pl.lit(d).alias("driver"), *_WEIGHTS)
        for d in drivers
    ]
    return sum_measures(frames)


def sum_measures(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """Row driver measures of several chunks summed per (driver, day, unit)."""
    if not frames:
        return pl.DataFrame(schema=MEASURE_COLUMNS)
    return (
        pl.concat(frames)
        .group_by("driver", "x_charge_date", "unit")
        .agg(pl.col("weight").sum().cast(MONEY))
        .sort("driver", "x_charge_date", "unit")
        .cast(MEASURE_COLUMNS)  # type: ignore[arg-type]
    )


def pool_shares(rule: SharedRule, measured: dict[str, Decimal]) -> tuple[str, dict[str, Decimal]]:
    """(driver label, unit -> share at scale 18 summing to exactly 1) for one pool."""
    if rule.driver == "fixed":
        weights = {u: rule.percentages.get(u, Decimal(0)) for u in rule.targets}
    elif rule.driver == "even":
        weights = dict.fromkeys(rule.targets, Decimal(1))
    else:
        weights = {u: max(measured.get(u, Decimal(0)), Decimal(0)) for u in rule.targets}
    label = rule.driver
    if sum(weights.values(), Decimal(0)) <= 0:
        weights = dict.fromkeys(rule.targets, Decimal(1))
        label = f"even(fallback:{rule.driver})"
    units = sorted(weights)
    shares = split_largest_remainder(Decimal(1), [weights[u] for u in units], SHARE_SCALE)
    return label, {u: s for u, s in zip(units, shares, strict=True) if s > 0}


def method_details(method: str, rule_id: str | None, version: str, driver: str | None, weights):
    """FOCUS 1.3 style AllocatedMethodDetails: canonical JSON of method, rule, driver, weights."""
    body = {
        "method": method,
        "rule": rule_id,
        "version": version,
        "driver": driver,
        "weights": {u: str(s) for u, s in sorted(weights.items())},
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def _idle_unknown_days(
    rule: SharedRule, k8s_usage: pl.DataFrame | None, cache: dict[str, set]
) -> set:
    """Days a k8s_usage rule that does not share idle proportionally cannot measure idle on."""
    if rule.driver != "k8s_usage" or rule.k8s.idle == "proportional" or k8s_usage is None:
        return set()
    if "days" not in cache:
        idle = idle_by_day(k8s_usage)
        cache["days"] = set(idle.filter(~pl.col("known"))["x_charge_date"].to_list())
    return cache["days"]


def _rule_measure(
    rule: SharedRule,
    rules: AllocationRules,
    direct: pl.DataFrame | None,
    k8s_usage: pl.DataFrame | None,
    measures: pl.DataFrame | None,
    driver_rows: pl.DataFrame | None,
) -> dict[tuple, Decimal]:
    """(day, unit) -> raw measure of one rule's driver (or split_by) over the days given."""
    if rule.split_by is not None:
        if measures is not None:
            quantities = measures
        elif direct is not None:
            quantities = quantity_measures(direct, rules)
        else:
            raise ValueError(f"rule {rule.id}: split_by needs the directly allocated rows")
        table = split_weights(rule, rules, k8s_usage, driver_rows, quantities)
    elif measures is not None and rule.driver in ROW_DRIVERS:
        table = measures.filter(pl.col("driver") == rule.driver).drop("driver")
    elif direct is None and rule.driver in ROW_DRIVERS:
        raise ValueError(f"driver {rule.driver} needs the directly allocated rows")
    else:
        rows_measured = direct if direct is not None else pl.DataFrame()
        table = measured_weights(rows_measured, rule.driver, rules, k8s_usage, rule.k8s)
    return {(d, u): w for d, u, w in table.rows()}


def _day_shares(
    rule: SharedRule, day, measured: dict[str, Decimal], driver_rows, rules: AllocationRules
) -> tuple[str, str, dict[str, Decimal]]:
    """(method, driver label, unit -> share) of one pool on one day.

    A split_by pool without quantity that day stays unallocated, the reason in the label; a
    driver file's keys that name no unit are named in it.
    """
    if rule.split_by is not None and not has_quantity(measured):
        label = f"{rule.driver}(no driver quantity on {day}: unallocated)"
        return "unallocated", label, {UNALLOCATED: Decimal(1)}
    label, shares = pool_shares(rule, measured)
    unmapped = unmapped_keys(driver_rows, rule, rules).get(day)
    if unmapped:  # their quantity is left out, and the rows say so
        label += f"(unmapped keys: {', '.join(unmapped)})"
    return "proportional", label, shares


def driver_parts(
    direct: pl.DataFrame | None,
    pools: pl.DataFrame,
    rules: AllocationRules,
    k8s_usage: pl.DataFrame | None,
    measures: pl.DataFrame | None = None,
    driver_rows: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """PART_COLUMNS for every (shared rule, day) in `pools`: the units and shares of each pool.

    `measures` (MEASURE_COLUMNS, e.g. the whole day's when `direct` is one chunk of it) replaces
    the row drivers' measures taken on `direct`; `direct` may be None when `measures` is given.
    `driver_rows` are the days' allocation_drivers_raw rows (split_by file rules). A split_by
    rule's day without quantity keeps its pool unallocated, the reason in the driver label.
    """
    by_id = {r.id: r for r in rules.shared}
    rows: list[dict] = []
    measured_cache: dict[tuple, dict[tuple, Decimal]] = {}
    unknown_cache: dict[str, set] = {}
    for rule_id, day in pools.select("_shared_rule", "x_charge_date").unique().sort("*").rows():
        rule = by_id[rule_id]
        key: tuple = (rule.driver, rule.k8s if rule.driver == "k8s_usage" else None)
        if rule.split_by is not None:
            key = ("split_by", rule.id)
        if key not in measured_cache:
            measured_cache[key] = _rule_measure(
                rule, rules, direct, k8s_usage, measures, driver_rows
            )
        cache = measured_cache[key]
        measured = {u: cache.get((day, u), Decimal(0)) for u in rule.targets}
        method, label, shares = _day_shares(rule, day, measured, driver_rows, rules)
        if day in _idle_unknown_days(rule, k8s_usage, unknown_cache):
            label += "(idle unknown: no node capacity)"
        details = method_details(method, rule.id, rules.data_version, label, shares)
        for position, (unit, share) in enumerate(shares.items()):
            rows.append(
                {
                    "_shared_rule": rule.id,
                    "x_charge_date": day,
                    "x_business_unit": unit,
                    "_unit_pos": position,
                    "_w": int(share.scaleb(SHARE_SCALE)),
                    "x_allocation_share": share,
                    "x_allocation_driver": label,
                    "AllocatedMethodDetails": details,
                }
            )
    return pl.DataFrame(rows, schema=PART_COLUMNS).sort(
        "_shared_rule", "x_charge_date", "_unit_pos"
    )
