"""Weights of the pools split by another table's usage (a rule's `split_by`, see split_by.py).

Each function gives, per charge day and business unit, the raw measure (x_charge_date, unit,
weight); allocate_drivers turns them into exact shares, or keeps a day's pool unallocated
when its measure is zero or absent there.
"""

from decimal import Decimal

import polars as pl

from finops_assets.domain.allocate_tiers import RowMatcher
from finops_assets.domain.money import MONEY
from finops_assets.domain.rules import AllocationRules, SharedRule

WEIGHTS: dict[str, pl.DataType] = {"x_charge_date": pl.Date(), "unit": pl.Utf8(), "weight": MONEY}
MEASURES: dict[str, pl.DataType] = {"driver": pl.Utf8(), **WEIGHTS}
_K8S_COLUMNS = {"k8s_cpu": "cpu_usage_core_seconds", "k8s_memory": "memory_usage_byte_seconds"}


def quantity_key(rule: SharedRule) -> str:
    """The measure name of a normalized_quantity rule among the day's row driver measures."""
    return f"split:{rule.id}"


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=WEIGHTS)


def _summed(frame: pl.DataFrame, unit: str, value: str) -> pl.DataFrame:
    return (
        frame.filter(pl.col(unit).is_not_null())
        .group_by("x_charge_date", pl.col(unit).alias("unit"))
        .agg(pl.col(value).sum().cast(MONEY).alias("weight"))
        .select([pl.col(c).cast(t) for c, t in WEIGHTS.items()])
        .sort("x_charge_date", "unit")
    )


def quantity_measures(direct: pl.DataFrame, rules: AllocationRules) -> pl.DataFrame:
    """MEASURES of every normalized_quantity rule on directly allocated rows (with `_unit`).

    Additive over chunks of a day, like the row drivers: the ConsumedQuantity of the rows the
    rule's match selects (of its consumed_unit only, when set), per day and unit.
    """
    frames = []
    for rule in rules.shared:
        split = rule.split_by
        if split is None or split.kind != "normalized_quantity":
            continue
        rows = direct.filter(RowMatcher(direct).expr(dict(split.match)))
        if split.consumed_unit is not None:
            unit = pl.col("ConsumedUnit").str.strip_chars().str.to_lowercase()
            rows = rows.filter(unit == split.consumed_unit)
        summed = _summed(
            rows.filter(pl.col("ConsumedQuantity").is_not_null()), "_unit", "ConsumedQuantity"
        )
        frames.append(summed.select(pl.lit(quantity_key(rule)).alias("driver"), *WEIGHTS))
    if not frames:
        return pl.DataFrame(schema=MEASURES)
    return pl.concat(frames)


def k8s_weights(k8s_usage: pl.DataFrame | None, measure: str, rules: AllocationRules):
    """Per day and unit, the CPU core-seconds or memory byte-seconds used by its namespaces.

    Namespaces no hierarchy rule maps are left out (as for the k8s_usage driver).
    """
    if k8s_usage is None or k8s_usage.is_empty():
        return _empty()
    mapping = rules.namespace_units()
    unit = (
        pl.col("namespace")
        .str.to_lowercase()
        .replace_strict(mapping, default=None, return_dtype=pl.Utf8)
    )
    return _summed(k8s_usage.with_columns(unit.alias("_unit")), "_unit", _K8S_COLUMNS[measure])


def _key_units(keys: list[str], rules: AllocationRules) -> dict[str, str]:
    """Driver file key -> unit: a business unit, else the first tag key's value mapping."""
    units = {u.lower(): u for u in rules.business_units}
    result = {}
    for key in keys:
        low = key.strip().lower()
        unit = units.get(low)
        for tag_key in rules.tag_keys:
            unit = unit or rules.tag_values.get(tag_key, {}).get(low)
        if unit is not None:
            result[key] = unit
    return result


def file_weights(driver_rows: pl.DataFrame | None, rule: SharedRule, rules: AllocationRules):
    """Per day and unit, the quantity of the rule's driver file (its measure), keys mapped.

    Keys that name neither a unit nor a tag value are left out. Without split_by measure,
    a day whose file rows hold several measures raises ValueError naming driver and day.
    """
    split = rule.split_by
    assert split is not None  # noqa: S101 - called for file rules only
    if driver_rows is None or driver_rows.is_empty():
        return _empty()
    rows = driver_rows.filter(pl.col("x_driver") == split.file)
    if split.measure is not None:
        rows = rows.filter(pl.col("measure").str.to_lowercase() == split.measure.lower())
    else:
        measures = rows.group_by("x_charge_date").agg(pl.col("measure").unique().sort())
        for day, names in measures.filter(pl.col("measure").list.len() > 1).sort("*").rows():
            raise ValueError(
                f"driver file {split.file!r} on {day} holds several measures {names}; "
                f"rule {rule.id!r} must name one with split_by measure"
            )
    mapping = _key_units(rows["key"].unique().to_list(), rules)
    unit = pl.col("key").replace_strict(mapping, default=None, return_dtype=pl.Utf8)
    return _summed(rows.with_columns(unit.alias("_unit")), "_unit", "quantity")


def unmapped_keys(driver_rows: pl.DataFrame | None, rule: SharedRule, rules: AllocationRules):
    """Per day, the sorted keys of the rule's driver file that name neither unit nor tag value."""
    split = rule.split_by
    if split is None or split.kind != "file" or driver_rows is None or driver_rows.is_empty():
        return {}
    rows = driver_rows.filter(pl.col("x_driver") == split.file)
    if split.measure is not None:
        rows = rows.filter(pl.col("measure").str.to_lowercase() == split.measure.lower())
    mapped = _key_units(rows["key"].unique().to_list(), rules)
    missing = rows.filter(~pl.col("key").is_in(list(mapped)))
    found: dict = {}
    for day, key in missing.select("x_charge_date", "key").unique().sort("*").rows():
        found.setdefault(day, []).append(key)
    return found


def split_weights(
    rule: SharedRule,
    rules: AllocationRules,
    k8s_usage: pl.DataFrame | None,
    driver_rows: pl.DataFrame | None,
    quantities: pl.DataFrame,
) -> pl.DataFrame:
    """WEIGHTS of one split_by rule; `quantities` are the day's MEASURES (quantity_measures)."""
    split = rule.split_by
    assert split is not None  # noqa: S101 - called for split_by rules only
    if split.kind == "k8s":
        return k8s_weights(k8s_usage, split.k8s_measure, rules)
    if split.kind == "file":
        return file_weights(driver_rows, rule, rules)
    return quantities.filter(pl.col("driver") == quantity_key(rule)).drop("driver")


def has_quantity(measured: dict[str, Decimal]) -> bool:
    """Whether a day's measure gives the pool any positive weight."""
    return sum((max(w, Decimal(0)) for w in measured.values()), Decimal(0)) > 0
