"""`split_by`: a shared pool split by a usage measure from another table of the lake.

A shared rule declares either a `driver` measured on the day's directly allocated cost
(allocate_drivers) or `split_by`, one of:

- `{driver: k8s_cpu}` / `{driver: k8s_memory}`: Kubernetes usage (k8s_usage_raw), CPU
  core-hours or memory GiB-hours used per namespace, mapped to units by the hierarchy's
  k8s_namespace rules;
- `{normalized_quantity: {match: {...}, consumed_unit: U}}`: the ConsumedQuantity of the
  normalized_costs rows that `match` selects (any provider), per unit they are directly
  allocated to (tag or hierarchy), optionally of one ConsumedUnit only;
- `{file: NAME, measure: M}`: a driver file the customer drops in landing/drivers/NAME/
  (allocation_drivers_raw, domain.driver_files), per key: a business unit, or a tag value
  mapped by the rules' tag_values (a key naming neither is left out, named in the driver
  label). `measure` picks one measure of the file; without it the file must hold one measure
  per day.

A day on which the measure is zero or absent keeps the pool unallocated, with the reason in
x_allocation_driver: a missing usage feed must not silently move cost by another key.
"""

from dataclasses import dataclass
from typing import Any

# Match keys a normalized_quantity driver may select rows with (columns every row carries).
QUANTITY_MATCH_KEYS = (
    "provider",
    "sub_account_id",
    "charge_category",
    "service_category",
    "resource_id_contains",
    "service_name_contains",
)
K8S_MEASURES = ("k8s_cpu", "k8s_memory")


@dataclass(frozen=True)
class SplitBy:
    """What measure splits a pool: kind k8s | normalized_quantity | file, with its options."""

    kind: str
    k8s_measure: str = ""  # k8s_cpu | k8s_memory
    match: tuple[tuple[str, tuple[str, ...]], ...] = ()  # normalized_quantity: sorted match
    consumed_unit: str | None = None  # normalized_quantity: lower case
    file: str = ""  # file: the driver's folder name
    measure: str | None = None  # file: the measure used

    @property
    def label(self) -> str:
        """The driver as x_allocation_driver names it: k8s_cpu, normalized_quantity, file:NAME."""
        if self.kind == "k8s":
            return self.k8s_measure
        if self.kind == "file":
            return f"file:{self.file}"
        return "normalized_quantity"


class SplitByError(ValueError):
    """A split_by that cannot be used; the message says why (the caller names the rule)."""


def _text(raw: Any, what: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise SplitByError(f"split_by {what} must be a non-empty string")
    return raw.strip()


def _quantity(raw: Any) -> SplitBy:
    if not isinstance(raw, dict) or not isinstance(raw.get("match"), dict) or not raw["match"]:
        raise SplitByError("split_by normalized_quantity needs a non-empty match")
    unknown = sorted(set(raw) - {"match", "consumed_unit"})
    if unknown:
        raise SplitByError(f"split_by normalized_quantity: unknown key(s) {unknown}")
    match = []
    for key, value in sorted(raw["match"].items()):
        if key not in QUANTITY_MATCH_KEYS:
            raise SplitByError(
                f"split_by normalized_quantity: match key {key!r} not allowed; "
                f"allowed {QUANTITY_MATCH_KEYS}"
            )
        values = value if isinstance(value, list) else [value]
        match.append((key, tuple(str(v).lower() for v in values)))
    unit = raw.get("consumed_unit")
    unit = _text(unit, "consumed_unit").lower() if unit is not None else None
    return SplitBy("normalized_quantity", match=tuple(match), consumed_unit=unit)


def parse_split_by(raw: Any) -> SplitBy:
    """A SplitBy from the rule's `split_by` mapping (exactly one of driver, normalized_quantity,
    file; `measure` only with file)."""
    if not isinstance(raw, dict):
        raise SplitByError("split_by must be a mapping")
    kinds = [k for k in ("driver", "normalized_quantity", "file") if k in raw]
    if len(kinds) != 1:
        raise SplitByError("split_by needs exactly one of driver, normalized_quantity, file")
    if "measure" in raw and kinds != ["file"]:
        raise SplitByError("split_by measure only applies to file")
    unknown = sorted(set(raw) - {"driver", "normalized_quantity", "file", "measure"})
    if unknown:
        raise SplitByError(f"split_by: unknown key(s) {unknown}")
    if kinds == ["driver"]:
        if raw["driver"] not in K8S_MEASURES:
            raise SplitByError(f"split_by driver {raw['driver']!r} unknown; known {K8S_MEASURES}")
        return SplitBy("k8s", k8s_measure=raw["driver"])
    if kinds == ["file"]:
        measure = raw.get("measure")
        return SplitBy(
            "file",
            file=_text(raw["file"], "file"),
            measure=_text(measure, "measure") if measure is not None else None,
        )
    return _quantity(raw["normalized_quantity"])
