"""Cost allocation: every normalized cost row goes to the business units that pay for it.

Tiers, in order per row: (a) tag, the first of the rules' tag keys whose value maps to a unit;
(b) hierarchy, the highest-priority matching hierarchy rule (account, resource group,
namespace...); (c) shared, a row matched by a shared rule joins that rule's pool for its day and
is split over the target units by the rule's driver (see allocate_drivers); whatever is left
goes to "unallocated". Splits are exact: the parts of each money column add up to the source
row to the last unit (allocate_split), and each part carries its lineage (rule, version,
driver, share, FOCUS 1.3 AllocatedMethodId/AllocatedMethodDetails).

A pool is one shared rule on one day; its currencies and charge categories all get the same
weights, and because every source row is split exactly, each (day, currency, charge category)
total is conserved too. Output rows are ordered by (x_source_row_key, x_business_unit).
"""

from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import Decimal

import polars as pl

from finops_assets.domain.allocate_drivers import driver_parts, row_driver_measures, sum_measures
from finops_assets.domain.allocate_external import quantity_measures
from finops_assets.domain.allocate_split import SHARE, SHARE_SCALE, split_parts
from finops_assets.domain.allocate_tiers import assign_tiers
from finops_assets.domain.fx_policy import FX_RECORD_COLUMNS
from finops_assets.domain.money import DEFAULT_MINOR_UNITS, MONEY, MONEY_SCALE
from finops_assets.domain.rules import UNALLOCATED, AllocationRules

ALLOCATED_COLUMNS: dict[str, pl.DataType] = {
    "x_charge_date": pl.Date(),
    "x_provider": pl.Utf8(),
    "x_business_unit": pl.Utf8(),
    "x_source": pl.Utf8(),
    "x_source_row_key": pl.Utf8(),
    "x_allocation_row_key": pl.Utf8(),  # x_source_row_key|x_business_unit
    "ChargeCategory": pl.Utf8(),
    "ChargeClass": pl.Utf8(),
    "BillingCurrency": pl.Utf8(),
    "BilledCost": MONEY,
    "EffectiveCost": MONEY,
    "x_base_currency": pl.Utf8(),
    "x_billed_cost_base": MONEY,
    "x_effective_cost_base": MONEY,
    "ServiceName": pl.Utf8(),
    "ServiceCategory": pl.Utf8(),
    "SubAccountId": pl.Utf8(),
    "ResourceId": pl.Utf8(),
    "RegionId": pl.Utf8(),
    "x_allocation_method": pl.Utf8(),  # tag | hierarchy | proportional | unallocated
    "x_allocation_rule_id": pl.Utf8(),  # tag:<key>, a hierarchy or shared rule id, or null
    "x_allocation_rule_version": pl.Utf8(),  # AllocationRules.data_version
    "x_allocation_driver": pl.Utf8(),  # the shared rule's driver, or even(fallback:<driver>)
    "x_allocation_share": SHARE,  # fraction of the source row this part carries
    "AllocatedMethodId": pl.Utf8(),
    "AllocatedMethodDetails": pl.Utf8(),  # JSON: method, rule, version, driver, weights
    **FX_RECORD_COLUMNS,  # the rate, its day and source the base amounts were converted with
}
ALLOCATION_METHODS = ("tag", "hierarchy", "proportional", "unallocated")
BILLING_MONEY_COLUMNS = ("BilledCost", "EffectiveCost")
BASE_MONEY_COLUMNS = ("x_billed_cost_base", "x_effective_cost_base")
INPUT_COLUMNS = (
    *(
        c
        for c in ALLOCATED_COLUMNS
        if not c.startswith(("x_allocation", "x_business", "Alloc")) and c not in FX_RECORD_COLUMNS
    ),
    "x_tags",
    "ConsumedQuantity",
    "ConsumedUnit",
)
_MAX_UNITS = 1 << 16  # parts of one source row, for the output order (source row, unit)
_DRIVER_INPUTS = (
    "x_charge_date",
    "_unit",
    "ServiceCategory",
    "x_effective_cost_base",
    "ConsumedQuantity",
    "ConsumedUnit",
)
_ONE = Decimal(1).quantize(Decimal(1).scaleb(-SHARE_SCALE))


def _base_unit_size(minor_units: Mapping[str, int], currencies: list[str]) -> pl.Expr:
    """Per row, the base currency's minor unit in units of 10**-MONEY_SCALE."""
    unknown = sorted(c for c in currencies if c not in minor_units)
    if unknown:
        raise ValueError(f"no minor units known for base currency {unknown}; pass minor_units")
    sizes = {c: 10 ** (MONEY_SCALE - minor_units[c]) for c in currencies}
    return pl.col("x_base_currency").replace_strict(sizes, return_dtype=pl.Int64)


def _validated_input(normalized: pl.DataFrame, first_row: int = 0) -> pl.DataFrame:
    """The input columns sorted by x_source_row_key, with _row counted from `first_row`.

    Refuses null or repeated keys (within these rows).
    """
    missing = [c for c in INPUT_COLUMNS if c not in normalized.columns]
    if missing:
        raise ValueError(f"normalized costs lack column(s) {missing}")
    if normalized["x_charge_date"].null_count():
        raise ValueError("x_charge_date must be non-null (it selects the day's pools)")
    frame = normalized.select(  # the FX record is optional: null where the rows carry none
        *INPUT_COLUMNS,
        *[
            (pl.col(c) if c in normalized.columns else pl.lit(None)).cast(t).alias(c)
            for c, t in FX_RECORD_COLUMNS.items()
        ],
    )
    keys = frame["x_source_row_key"]
    if not keys.is_sorted():  # normalized_costs comes sorted: checking is cheaper than sorting
        frame = frame.sort("x_source_row_key")
        keys = frame["x_source_row_key"]
    # sorted keys are unique when no key equals its neighbour
    repeated = keys.len() > 1 and (keys.slice(1) == keys.slice(0, keys.len() - 1)).any()
    if keys.null_count() or repeated:
        raise ValueError("x_source_row_key must be non-null and unique per normalized row")
    return frame.with_row_index("_row", offset=first_row)


def _single_parts(rows: pl.DataFrame, version: str) -> pl.DataFrame:
    """Rows that go whole to one unit (tag, hierarchy, unallocated): share 1, no split."""
    unit = pl.coalesce(pl.col("_unit"), pl.lit(UNALLOCATED))
    rule = pl.col("_rule_id")
    rule_json = (
        pl.when(rule.is_null())
        .then(pl.lit("null"))
        .otherwise(pl.concat_str(pl.lit('"'), rule, pl.lit('"')))
    )
    details = pl.concat_str(
        pl.lit('{"driver":null,"method":"'),
        pl.col("_method"),
        pl.lit('","rule":'),
        rule_json,
        pl.lit(f',"version":"{version}","weights":{{"'),
        unit,
        pl.lit(f'":"{_ONE}"}}}}'),
    )
    return rows.with_columns(
        (pl.col("_row").cast(pl.Int64) * _MAX_UNITS).alias("_order"),
        unit.alias("x_business_unit"),
        pl.lit(None, pl.Utf8).alias("x_allocation_driver"),
        pl.lit(_ONE).cast(SHARE).alias("x_allocation_share"),
        details.alias("AllocatedMethodDetails"),
        pl.coalesce(rule, pl.col("_method")).alias("AllocatedMethodId"),
    )


def _shared_parts(
    pooled: pl.DataFrame, parts: pl.DataFrame, base_unit_size: pl.Expr
) -> pl.DataFrame:
    """Rows of shared pools expanded over their units, money split exactly."""
    # Pools keep the row order; each row's parts follow the parts' business unit order.
    expanded = pooled.join(
        parts, on=["_shared_rule", "x_charge_date"], how="inner", maintain_order="left_right"
    )
    money = {c: pl.lit(1) for c in BILLING_MONEY_COLUMNS}
    money.update({c: base_unit_size for c in BASE_MONEY_COLUMNS})
    split = split_parts(expanded, "_row", money)
    kept = pl.col("x_business_unit") == UNALLOCATED  # a split_by pool without driver quantity
    return split.with_columns(
        pl.col("_shared_rule").alias("_rule_id"),
        pl.col("_shared_rule").alias("AllocatedMethodId"),
        pl.when(kept).then(pl.lit("unallocated")).otherwise(pl.col("_method")).alias("_method"),
        (pl.col("_row").cast(pl.Int64) * _MAX_UNITS + pl.col("_unit_pos")).alias("_order"),
    )


def _in_memory(frame: pl.DataFrame) -> Callable[[], pl.DataFrame]:
    return lambda: frame


def _allocated_parts(
    chunks: Iterable[pl.DataFrame],
    rules: AllocationRules,
    k8s_usage: pl.DataFrame | None,
    minor_units: Mapping[str, int] | None,
    hold: Callable[[pl.DataFrame], Callable[[], pl.DataFrame]],
    driver_rows: pl.DataFrame | None = None,
) -> Iterator[pl.DataFrame]:
    """Allocated parts (lineage columns and _order) in two passes over the chunks.

    Pass 1, chunk by chunk: assign tiers, yield the rows that go whole to one unit (they need
    nothing from other chunks), sum the row drivers' measures, and `hold` the pooled rows.
    Pass 2: the pools' shares from the whole day's measures, then each held chunk split.
    """
    sizes = minor_units or DEFAULT_MINOR_UNITS
    lineage = [*(c for c in ALLOCATED_COLUMNS if c not in _DERIVED), *_LINEAGE]
    measures: list[pl.DataFrame] = []
    pools: list[pl.DataFrame] = []
    held: list[Callable[[], pl.DataFrame]] = []
    first_row = 0
    for chunk in chunks:
        frame = _validated_input(chunk, first_row)
        first_row += frame.height
        tiers = assign_tiers(frame, rules)
        del frame  # large frames: free each stage's input as soon as it is consumed
        direct = tiers.filter(pl.col("_method").is_in(["tag", "hierarchy"]))
        measures.append(row_driver_measures(direct.select(_DRIVER_INPUTS), rules))
        if any(r.split_by is not None for r in rules.shared):  # another table's usage
            measures.append(quantity_measures(direct, rules))
        del direct
        pooled = tiers.filter(pl.col("_shared_rule").is_not_null())
        if pooled.height:
            pools.append(pooled.select("_shared_rule", "x_charge_date").unique())
            held.append(hold(pooled))
        del pooled
        single = tiers.filter(pl.col("_shared_rule").is_null())
        del tiers
        yield _single_parts(single, rules.data_version).select(lineage)
    if not held:
        return
    parts = driver_parts(
        None, pl.concat(pools), rules, k8s_usage, sum_measures(measures), driver_rows
    )
    for take in held:
        pooled = take()
        currencies = pooled["x_base_currency"].drop_nulls().unique().sort().to_list()
        yield _shared_parts(pooled, parts, _base_unit_size(sizes, currencies)).select(lineage)


def _finished(parts: pl.DataFrame, version: str) -> pl.DataFrame:
    """Parts with their derived lineage columns, in ALLOCATED_COLUMNS."""
    return (
        parts.lazy()
        .with_columns(
            pl.format("{}|{}", "x_source_row_key", "x_business_unit").alias("x_allocation_row_key"),
            pl.col("_rule_id").alias("x_allocation_rule_id"),
            pl.lit(version).alias("x_allocation_rule_version"),
            pl.col("_method").alias("x_allocation_method"),
        )
        .select([pl.col(c).cast(t) for c, t in ALLOCATED_COLUMNS.items()])
        .collect()
    )


def allocate_costs(
    normalized: pl.DataFrame,
    rules: AllocationRules,
    k8s_usage: pl.DataFrame | None = None,
    minor_units: Mapping[str, int] | None = None,
    driver_rows: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Allocate normalized cost rows to business units: ALLOCATED_COLUMNS, exact per source row.

    Rows come ordered by (x_source_row_key, business unit). `driver_rows` are the day's
    allocation_drivers_raw rows, for shared rules split by a driver file.
    """
    parts = _allocated_parts([normalized], rules, k8s_usage, minor_units, _in_memory, driver_rows)
    # _order is unique: concat + sort gives the merged order (measured cheaper than merge_sorted)
    return _finished(pl.concat(list(parts)).sort("_order"), rules.data_version)


def allocate_chunks(
    chunks: Iterable[pl.DataFrame],
    rules: AllocationRules,
    k8s_usage: pl.DataFrame | None = None,
    minor_units: Mapping[str, int] | None = None,
    hold: Callable[[pl.DataFrame], Callable[[], pl.DataFrame]] = _in_memory,
    driver_rows: pl.DataFrame | None = None,
) -> Iterator[pl.DataFrame]:
    """One large day of normalized rows, given in chunks, allocated chunk by chunk.

    The frames yielded hold exactly the rows allocate_costs gives for the concatenated chunks
    (the pools are split with the whole day's driver measures), in another order: each chunk's
    tag, hierarchy and unallocated rows as the chunk is read, then the pooled rows. Only the
    pooled rows (about a fifth of a typical day) wait for the second pass; `hold` keeps them
    (in memory by default; storage.spill keeps them on disk). The chunks must not share
    x_source_row_keys (each chunk is checked on its own).
    """
    for parts in _allocated_parts(chunks, rules, k8s_usage, minor_units, hold, driver_rows):
        yield _finished(parts, rules.data_version)


_DERIVED = (
    "x_allocation_row_key",
    "x_allocation_rule_id",
    "x_allocation_rule_version",
    "x_allocation_method",
)
_LINEAGE = ("_rule_id", "_method", "_order")
