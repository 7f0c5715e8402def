"""Pandera contract of the FOCUS 1.3 split cost allocation rows (focus_allocation).

The focus-validator cannot run FOCUS 1.3 offline, so the 1.3 conditions on split rows are
checked here, each against the origin charges in normalized_costs:

- summable metrics of an origin's split rows sum exactly to the origin's;
- every other FOCUS column (dimensions, unit prices, Tags) equals the origin's;
- AllocatedMethodDetails is a JSON object whose Elements[].AllocatedRatio sum to exactly 1 per
  origin, with custom keys prefixed x_;
- AllocatedResourceId/Name are null exactly on the unallocated remainder;
- AllocatedTags never repeats a key of Tags.
"""

import json
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

import pandera.polars as pa
import polars as pl

from finops_assets.domain.distinct_map import map_distinct, map_distinct_series
from finops_assets.domain.focus_allocation import (
    BUSINESS_UNIT_TAG,
    ORIGIN_FOCUS_COLUMNS,
    SPLIT_COLUMNS,
    SUMMABLE_METRICS,
)
from finops_assets.domain.rules import UNALLOCATED

_ORIGIN = "x_source_row_key"
_DIMENSIONS = tuple(c for c in ORIGIN_FOCUS_COLUMNS if c not in SUMMABLE_METRICS)
_RATIO = pl.Decimal(38, 18)
# AllocatedMethodDetails exactly as focus_split_rows writes it: one element whose ratio is a JSON
# number that fits _RATIO, then the three x_ strings (no quote, backslash or control character,
# so no escape). Such a text is a JSON object whose ratio is the captured number and whose
# custom keys are x_: _details_ok holds and _ratio_sum is that number. Any other text (an edited
# file, a future shape) goes to the Python functions below, once per distinct text.
_JSON_TEXT = r'"[^"\\\x00-\x1f]*"'
_CANONICAL_DETAILS = (
    r'^\{"Elements":\[\{"AllocatedRatio":(-?(?:0|[1-9][0-9]{0,19})(?:\.[0-9]{1,18})?)\}\],'
    rf'"x_Method":{_JSON_TEXT},"x_Driver":{_JSON_TEXT},"x_RuleVersion":{_JSON_TEXT}\}}$'
)


def _object(text: str | None) -> dict | None:
    try:
        value = json.loads(text, parse_float=Decimal) if text else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _ratio_sum(text: str | None) -> Decimal | None:
    """The sum of Elements[].AllocatedRatio of one row; None when the details are malformed."""
    details = _object(text)
    elements = details.get("Elements") if details else None
    if not isinstance(elements, list) or not elements:
        return None
    try:
        return sum((Decimal(str(e["AllocatedRatio"])) for e in elements), Decimal(0))
    except (KeyError, TypeError, InvalidOperation):
        return None


def _details_ok(text: str | None) -> bool:
    details = _object(text)
    custom = [k for k in details or {} if k != "Elements"]
    return _ratio_sum(text) is not None and all(k.startswith("x_") for k in custom)


def _tags_disjoint(row: dict) -> bool:
    tags, allocated = _object(row["Tags"]) or {}, _object(row["AllocatedTags"])
    return allocated is not None and not set(tags) & set(allocated)


def _canonical_or_python(
    details: pl.Series,
    canonical: pl.Series,
    fast: pl.Series,
    function: Callable[[str | None], object],
    dtype: pl.DataType,
) -> pl.Series:
    """`fast` where the text is canonical, else `function(text)` once per distinct other text."""
    others = pl.select(pl.when(canonical).then(None).otherwise(details)).to_series()
    python = map_distinct_series(others, function, dtype)
    return pl.select(pl.when(canonical).then(fast).otherwise(python)).to_series()


def _ratios(details: pl.Series) -> pl.Series:
    """_ratio_sum of each AllocatedMethodDetails (vectorized on canonical texts)."""
    captured = details.str.extract(_CANONICAL_DETAILS, 1)
    canonical = captured.is_not_null()
    return _canonical_or_python(details, canonical, captured.cast(_RATIO), _ratio_sum, _RATIO)


def _details_verdicts(details: pl.Series) -> pl.Series:
    """_details_ok of each AllocatedMethodDetails (vectorized on canonical texts)."""
    canonical = details.str.contains(_CANONICAL_DETAILS).fill_null(False)
    return _canonical_or_python(details, canonical, canonical, _details_ok, pl.Boolean())


def _row_check(name: str, expr: pl.Expr) -> pa.Check:
    return pa.Check(lambda data: data.lazyframe.select(expr.alias(name)), name=name)


def _checks() -> list[pa.Check]:
    details = pl.col("AllocatedMethodDetails")
    ratio = details.map_batches(_ratios, return_dtype=_RATIO)
    unit = pl.col("AllocatedTags").str.json_path_match(f"$.{BUSINESS_UNIT_TAG}")
    remainder = unit == UNALLOCATED
    return [
        _row_check(
            "summable_metrics_sum_to_origin",
            pl.all_horizontal(
                pl.col(m).fill_null(0).sum().over(_ORIGIN) == pl.col(f"_o_{m}").fill_null(0)
                for m in SUMMABLE_METRICS
            ),
        ),
        _row_check(
            "dimensions_equal_origin",
            pl.all_horizontal(pl.col(c).eq_missing(pl.col(f"_o_{c}")) for c in _DIMENSIONS),
        ),
        _row_check(
            "method_details_json",
            details.map_batches(_details_verdicts, return_dtype=pl.Boolean),
        ),
        pa.Check(  # the ratios first: a map_batches inside .over() would run once per origin
            lambda data: data.lazyframe.with_columns(_ratio=ratio).select(
                (pl.col("_ratio").sum().over(_ORIGIN) == 1).fill_null(False).alias("ratios")
            ),
            name="ratios_sum_to_one",
        ),
        _row_check(
            "remainder_has_no_resource",
            pl.col("AllocatedResourceId").is_null().eq_missing(remainder)
            & pl.col("AllocatedResourceName").is_null().eq_missing(remainder),
        ),
        _row_check(
            "allocated_tags_not_in_tags",
            map_distinct(
                pl.struct("Tags", "AllocatedTags"),
                lambda row: _tags_disjoint(row),  # looked up per call (tests count the calls)
                pl.Boolean(),
            ),
        ),
    ]


SPLIT_SCHEMA = pa.DataFrameSchema(
    {name: pa.Column(dtype, nullable=True) for name, dtype in SPLIT_COLUMNS.items()},
    checks=_checks(),
    strict=False,
    name="focus_cost_allocation",
)


def split_contract_failures(split: pl.DataFrame, origins: pl.DataFrame) -> list[dict]:
    """Every failure of the 1.3 contract: [{check, x_source_row_key, ...}], [] when it holds."""
    renamed = origins.select(_ORIGIN, *[pl.col(c).alias(f"_o_{c}") for c in ORIGIN_FOCUS_COLUMNS])
    joined = split.join(renamed, on=_ORIGIN, how="left")
    try:
        SPLIT_SCHEMA.validate(joined, lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        return [
            {"check": str(check), "index": index, "failure_case": str(case)}
            for check, index, case in cases.select("check", "index", "failure_case").rows()
        ]
    return []
