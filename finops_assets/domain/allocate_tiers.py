"""Which allocation tier each cost row falls in: tag, hierarchy, shared pool or unallocated.

Vectorized: every rule becomes one boolean expression over the normalized rows; rules are
tried by priority (highest first, ties by id) and two rules of equal priority matching the
same row raise AmbiguousRuleError naming both.
"""

from collections.abc import Sequence

import polars as pl

from finops_assets.domain.rules_model import (
    CONTAINS_MATCH_KEYS,
    AllocationRules,
    AmbiguousRuleError,
    HierarchyRule,
    Match,
    SharedRule,
)

# Normalized tag keys that may carry a Kubernetes namespace or a VPC id.
NAMESPACE_TAG_KEYS = ("k8s_namespace", "k8s-namespace", "kubernetes_namespace", "namespace")
VPC_TAG_KEYS = ("vpc_id", "vpc")
# Which column each match key compares (case-insensitively) against.
MATCH_COLUMNS = {
    "provider": "x_provider",
    "sub_account_id": "SubAccountId",
    "resource_group": "_m_resource_group",
    "vpc": "_m_vpc",
    "k8s_namespace": "_m_k8s_namespace",
    "charge_category": "ChargeCategory",
    "service_category": "ServiceCategory",
    "resource_id_contains": "ResourceId",
    "service_name_contains": "ServiceName",
}


def tag_value_expr(key: str) -> pl.Expr:
    """The value of tag `key` in x_tags (JSON), trimmed and lower-cased; null when absent."""
    path = "$['" + key.replace("'", "") + "']"
    return pl.col("x_tags").str.json_path_match(path).str.strip_chars().str.to_lowercase()


def _first_tag(keys: tuple[str, ...]) -> pl.Expr:
    return pl.coalesce([tag_value_expr(k) for k in keys])


def with_tag_columns(frame: pl.DataFrame, rules: AllocationRules) -> pl.DataFrame:
    """Add _tag_unit, _tag_rule, _m_vpc, _m_k8s_namespace, computed once per distinct x_tags."""
    tag_unit, tag_rule = _tag_unit(rules)
    lookup = frame.select(pl.col("x_tags").unique()).with_columns(
        tag_unit.alias("_tag_unit"),
        tag_rule.alias("_tag_rule"),
        _first_tag(VPC_TAG_KEYS).alias("_m_vpc"),
        _first_tag(NAMESPACE_TAG_KEYS).alias("_m_k8s_namespace"),
    )
    looked_up = frame.select("x_tags").join(
        lookup, on="x_tags", how="left", nulls_equal=True, maintain_order="left"
    )
    return frame.hstack(looked_up.drop("x_tags").get_columns())


class RowMatcher:
    """Builds the boolean expression of a rule's match over one frame.

    Case-insensitive comparisons are evaluated once per distinct value of a column, then
    applied to the rows as a fast `is_in` on the original spellings.
    """

    def __init__(self, frame: pl.DataFrame) -> None:
        self.frame = frame
        self._distinct: dict[str, pl.DataFrame] = {}

    def _values(self, column: str) -> pl.DataFrame:
        """The column's distinct non-null values (v) with their lower case (low)."""
        if column not in self._distinct:
            values = self.frame.get_column(column).drop_nulls().unique()
            self._distinct[column] = pl.DataFrame({"v": values, "low": values.str.to_lowercase()})
        return self._distinct[column]

    def _key_expr(self, key: str, values: tuple[str, ...]) -> pl.Expr:
        column = MATCH_COLUMNS[key]
        low = pl.col("low")
        if key.endswith("_contains"):
            matches = low.str.contains_any(list(values)) if values else pl.lit(False)
        else:
            matches = low.is_in(list(values))
        accepted = self._values(column).filter(matches).get_column("v")
        expr = pl.col(column).is_in(accepted.implode(), nulls_equal=False)
        if key == "vpc":  # a VPC id also matches resources whose id names it
            expr = expr | self._key_expr("resource_id_contains", values)
        return expr

    def expr(self, match: Match) -> pl.Expr:
        """True for the rows that satisfy every key of `match` (an empty match: every row)."""
        conditions = [self._key_expr(key, values) for key, values in match.items()]
        if not conditions:
            return pl.lit(True)
        return pl.all_horizontal(conditions).fill_null(False)


def _exactly_disjoint(a: Match, b: Match) -> bool:
    """True when an exact-value key set in both matches has no value in common."""
    shared_keys = (set(a) & set(b)) - set(CONTAINS_MATCH_KEYS)
    return any(not set(a[k]) & set(b[k]) for k in shared_keys)


def _check_ambiguity(
    frame: pl.DataFrame,
    rules: Sequence[HierarchyRule | SharedRule],
    masks: list[str],
    open_rows: pl.Expr,
) -> None:
    """Raise AmbiguousRuleError if two equal-priority rules match one still-open row."""
    for i, first in enumerate(rules):
        for j in range(i + 1, len(rules)):
            second = rules[j]
            if first.priority != second.priority or _exactly_disjoint(first.match, second.match):
                continue
            hits = frame.filter(open_rows & pl.col(masks[i]) & pl.col(masks[j]))
            if hits.height:
                key = hits["x_source_row_key"][0]
                raise AmbiguousRuleError(
                    f"rules {first.id!r} and {second.id!r} (priority {first.priority}) both "
                    f"match {hits.height} cost row(s), e.g. x_source_row_key {key!r}"
                )


def _first_rule(masks: list[str], values: list[str]) -> pl.Expr:
    """The value of the first mask column that is true (masks in priority order), else null."""
    expr: pl.Expr = pl.lit(None, pl.Utf8)
    for mask, value in reversed(list(zip(masks, values, strict=True))):
        expr = pl.when(pl.col(mask)).then(pl.lit(value)).otherwise(expr)
    return expr


def _tag_unit(rules: AllocationRules) -> tuple[pl.Expr, pl.Expr]:
    """(unit, rule id 'tag:<key>') of the first tag key whose value maps to a unit."""
    units: list[pl.Expr] = []
    ids: list[pl.Expr] = []
    for key in rules.tag_keys:
        mapping = rules.tag_values.get(key, {})
        if not mapping:
            continue
        unit = tag_value_expr(key).replace_strict(mapping, default=None, return_dtype=pl.Utf8)
        units.append(unit)
        ids.append(pl.when(unit.is_not_null()).then(pl.lit(f"tag:{key}")))
    if not units:
        return pl.lit(None, pl.Utf8), pl.lit(None, pl.Utf8)
    return pl.coalesce(units), pl.coalesce(ids)


def _with_masks(frame: pl.DataFrame, rules: AllocationRules) -> tuple[pl.DataFrame, list, list]:
    """Add one boolean column per hierarchy and shared rule: does the rule match the row."""
    every_rule: list[HierarchyRule | SharedRule] = [*rules.hierarchy, *rules.shared]
    if any("resource_group" in r.match for r in every_rule):
        group = pl.col("ResourceId").str.extract(r"(?i)/resourcegroups/([^/]+)", 1)
        frame = frame.with_columns(group.alias("_m_resource_group"))
    matcher = RowMatcher(frame)
    hierarchy = [f"_mask_h{i}" for i in range(len(rules.hierarchy))]
    shared = [f"_mask_s{i}" for i in range(len(rules.shared))]
    frame = frame.with_columns(
        *[matcher.expr(r.match).alias(m) for r, m in zip(rules.hierarchy, hierarchy, strict=True)],
        *[matcher.expr(r.match).alias(m) for r, m in zip(rules.shared, shared, strict=True)],
    )
    return frame, hierarchy, shared


def assign_tiers(normalized: pl.DataFrame, rules: AllocationRules) -> pl.DataFrame:
    """Add _unit, _method, _rule_id (tag/hierarchy/unallocated) and _shared_rule per row."""
    frame, hierarchy, shared = _with_masks(with_tag_columns(normalized, rules), rules)
    tagged = pl.col("_tag_unit").is_not_null()
    _check_ambiguity(frame, rules.hierarchy, hierarchy, ~tagged)
    frame = frame.with_columns(
        _first_rule(hierarchy, [r.business_unit for r in rules.hierarchy]).alias("_hier_unit"),
        _first_rule(hierarchy, [r.id for r in rules.hierarchy]).alias("_hier_rule"),
    ).with_columns(
        pl.when(tagged).then("_tag_unit").otherwise("_hier_unit").alias("_unit"),
        pl.when(tagged).then("_tag_rule").otherwise("_hier_rule").alias("_rule_id"),
        pl.when(tagged)
        .then(pl.lit("tag"))
        .when(pl.col("_hier_unit").is_not_null())
        .then(pl.lit("hierarchy"))
        .alias("_method"),
    )
    open_rows = pl.col("_unit").is_null()
    _check_ambiguity(frame, rules.shared, shared, open_rows)
    frame = frame.with_columns(
        pl.when(open_rows)
        .then(_first_rule(shared, [r.id for r in rules.shared]))
        .alias("_shared_rule")
    ).with_columns(
        pl.when(pl.col("_method").is_not_null())
        .then("_method")
        .when(pl.col("_shared_rule").is_not_null())
        .then(pl.lit("proportional"))
        .otherwise(pl.lit("unallocated"))
        .alias("_method")
    )
    helpers = [c for c in frame.columns if c.startswith(("_m_", "_mask_", "_tag_", "_hier_"))]
    return frame.drop(helpers)
