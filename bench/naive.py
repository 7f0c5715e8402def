"""(c) The naive approach: row by row in Python with `decimal`, the reference for the totals."""

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path

import pyarrow.parquet as pq

from bench.reference import TOTAL_COLUMNS, Reference
from finops_assets.domain.allocate_drivers import BYTE_UNITS_TO_GB
from finops_assets.domain.money import split_largest_remainder
from finops_assets.domain.rules import UNALLOCATED, SharedRule

_USAGE = {"Usage", "DiscountedUsage", "SavingsPlanCoveredUsage", "SavingsPlanNegation"}
_PURCHASE = {"Fee", "RIFee", "SavingsPlanRecurringFee", "SavingsPlanUpfrontFee"}
_CREDIT = {"Credit", "BundledDiscount", "EdpDiscount", "PrivateRateDiscount", "DistributorDiscount"}
_NO_EFFECTIVE = {"SavingsPlanNegation", "SavingsPlanRecurringFee", "SavingsPlanUpfrontFee", "RIFee"}
_TEN = Decimal("1e-10")


def charge_category(kind: str) -> str:
    """CUR line item type -> FOCUS ChargeCategory."""
    if kind in _USAGE:
        return "Usage"
    if kind in _PURCHASE:
        return "Purchase"
    if kind == "Tax":
        return "Tax"
    return "Credit" if kind in _CREDIT else "Adjustment"


def effective_cost(row: dict) -> Decimal:
    """CUR row -> FOCUS EffectiveCost (commitment effective cost on covered usage)."""
    kind, unblended = row["line_item_line_item_type"], row["line_item_unblended_cost"]
    if kind in _NO_EFFECTIVE:
        return Decimal(0)
    if kind == "SavingsPlanCoveredUsage":
        return row["savings_plan_savings_plan_effective_cost"] or unblended
    if kind == "DiscountedUsage":
        return row["reservation_effective_cost"] or unblended
    return unblended


def canonical_tags(pairs: list[tuple[str, str]], aliases: dict[str, str]) -> dict[str, str]:
    """CUR tags -> canonical keys; the first non-empty value in original-key order wins."""
    tags: dict[str, str] = {}
    for original, value in sorted((k.removeprefix("user_"), v) for k, v in pairs):
        key = original.strip()
        if key.lower().startswith(("user:", "user_")):
            key = key[5:]
        key = key.strip().lower().replace("-", "_").replace(" ", "_")
        key = aliases.get(key, key)
        cleaned = (value or "").strip()
        if key and (key not in tags or (not tags[key] and cleaned)):
            tags[key] = cleaned
    return tags


def _tier(row: dict, ref: Reference, tags: dict[str, str]) -> tuple[str | None, str | None]:
    """(unit, method) from the tag and hierarchy tiers, or (None, None)."""
    for key in ref.rules.tag_keys:
        unit = ref.rules.tag_values.get(key, {}).get(tags.get(key, "").strip().lower())
        if unit:
            return unit, "tag"
    account = (row["line_item_usage_account_id"] or "").lower()
    for rule in ref.rules.hierarchy:
        by_account = set(rule.match) == {"provider", "sub_account_id"}
        if (
            by_account
            and "aws" in rule.match["provider"]
            and account in rule.match["sub_account_id"]
        ):
            return rule.business_unit, "hierarchy"
    return None, None


def _matches(rule: SharedRule, row: dict) -> bool:
    values = {
        "provider": "aws",
        "sub_account_id": row["SubAccountId"],
        "charge_category": row["ChargeCategory"],
        "service_name_contains": row["ServiceName"],
        "resource_id_contains": row["ResourceId"],
    }
    for key, accepted in rule.match.items():
        value = (values.get(key) or "").lower()
        if key.endswith("_contains"):
            if not any(a in value for a in accepted):
                return False
        elif value not in accepted:
            return False
    return bool(rule.match)


def _normalized(raw: dict, ref: Reference, catalog: dict, rate: Decimal, unit: Decimal) -> dict:
    code = raw["product_servicecode"] or raw["line_item_product_code"]
    name, category = catalog.get((code or "").strip().lower(), (None, None))
    if category is None:
        name = raw["product_product_name"] or raw["line_item_product_code"] or code or "Unknown"
    kind = raw["line_item_line_item_type"]
    billed, effective = raw["line_item_unblended_cost"], effective_cost(raw)
    category_charge = charge_category(kind)
    return {
        "ChargeCategory": category_charge,
        "ServiceName": name,
        "ServiceCategory": category or "Other",
        "SubAccountId": raw["line_item_usage_account_id"],
        "ResourceId": raw["line_item_resource_id"],
        "BilledCost": billed,
        "EffectiveCost": effective,
        "x_billed_cost_base": (billed * rate).quantize(unit, rounding=ROUND_HALF_UP),
        "x_effective_cost_base": (effective * rate).quantize(unit, rounding=ROUND_HALF_UP),
        "quantity": raw["line_item_usage_amount"] if category_charge == "Usage" else None,
        "unit": raw["pricing_unit"] if category_charge == "Usage" else None,
    }


def _measure(driver: str, row: dict) -> Decimal:
    if driver == "compute_cost":
        return row["x_effective_cost_base"] if row["ServiceCategory"] == "Compute" else Decimal(0)
    factor = BYTE_UNITS_TO_GB.get((row["unit"] or "").strip().lower())
    if driver == "network_bytes" and factor is not None and row["quantity"] is not None:
        return (row["quantity"] * factor).quantize(_TEN, rounding=ROUND_HALF_UP)
    return Decimal(0)


def _pool_shares(rule: SharedRule, measures: dict) -> dict[str, Decimal]:
    weights = [max(measures[rule.driver].get(u, Decimal(0)), Decimal(0)) for u in rule.targets]
    units = sorted(rule.targets)
    weights = [max(measures[rule.driver].get(u, Decimal(0)), Decimal(0)) for u in units]
    if sum(weights) <= 0:
        weights = [Decimal(1)] * len(units)
    shares = split_largest_remainder(Decimal(1), weights, 18)
    return {u: s for u, s in zip(units, shares, strict=True) if s > 0}


def normalize_and_allocate(path: Path, ref: Reference) -> dict[str, list[str]]:
    """Every row in a Python loop; totals per business unit (see reference.totals_text)."""
    catalog = {
        (code or "").strip().lower(): (name, category)
        for provider, code, name, category, _ in ref.catalog.rows()
        if provider.lower() == "aws"
    }
    unit = Decimal(1).scaleb(-ref.minor_units)
    totals: dict[str, list] = defaultdict(lambda: [0, *([Decimal(0)] * len(TOTAL_COLUMNS))])
    measures: dict[str, dict[str, Decimal]] = {d: defaultdict(Decimal) for d in _DRIVERS}
    pools: dict[str, list[dict]] = defaultdict(list)
    with localcontext() as ctx:
        ctx.prec = 60
        rates = {c: ref.rate(c) for c in ("USD", "EUR", "JPY")}
        for raw in pq.read_table(path).to_pylist():
            row = _normalized(raw, ref, catalog, rates[raw["line_item_currency_code"]], unit)
            tags = canonical_tags(raw["resource_tags"] or [], ref.tag_aliases)
            business_unit, method = _tier(raw, ref, tags)
            if business_unit is not None:
                for driver in _DRIVERS:
                    measures[driver][business_unit] += _measure(driver, row)
                _add(totals[business_unit], row, Decimal(1), unit, ref)
                continue
            rule = next((r for r in ref.rules.shared if _matches(r, row)), None)
            if rule is None:
                _add(totals[UNALLOCATED], row, Decimal(1), unit, ref)
            else:
                pools[rule.id].append(row)
        _split_pools(pools, measures, totals, unit, ref)
    return {u: [str(t[0]), *(format(v, ".10f") for v in t[1:])] for u, t in sorted(totals.items())}


_DRIVERS = ("compute_cost", "network_bytes")


def _add(total: list, row: dict, share: Decimal, unit: Decimal, ref: Reference) -> None:
    total[0] += 1
    for i, column in enumerate(TOTAL_COLUMNS, start=1):
        total[i] += row[column]


def _split_pools(pools, measures, totals, unit: Decimal, ref: Reference) -> None:
    by_id = {r.id: r for r in ref.rules.shared}
    for rule_id, rows in pools.items():
        shares = _pool_shares(by_id[rule_id], measures)
        units, weights = list(shares), list(shares.values())
        for row in rows:
            for i, column in enumerate(TOTAL_COLUMNS, start=1):
                scale = 10 if column in ("BilledCost", "EffectiveCost") else ref.minor_units
                parts = split_largest_remainder(row[column], weights, scale)
                for business_unit, part in zip(units, parts, strict=True):
                    totals[business_unit][i] += part
            for business_unit in units:
                totals[business_unit][0] += 1
