"""The shape of a validated rule set: its constants, errors and frozen dataclasses.

domain/rules.py reads a YAML document into these; domain/rule_entries.py validates each rule.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from finops_assets.domain.fx_policy import DAILY_POLICY, FxPolicy
from finops_assets.domain.k8s_split import AWS_SPLIT, K8sSplit
from finops_assets.domain.split_by import SplitBy

UNALLOCATED = "unallocated"
# The keys of a version's effective window: when it applies, not what it allocates.
WINDOW_KEYS = ("effective_from", "effective_to", "restate_from", "reason")
DRIVERS = ("compute_cost", "network_bytes", "request_share", "fixed", "even", "k8s_usage")
# Match keys that compare a value exactly (case-insensitive) and those that look for a substring.
EXACT_MATCH_KEYS = (
    "provider",
    "sub_account_id",
    "resource_group",
    "vpc",
    "k8s_namespace",
    "charge_category",
    "service_category",
)
CONTAINS_MATCH_KEYS = ("resource_id_contains", "service_name_contains")
HIERARCHY_MATCH_KEYS = (
    "provider",
    "sub_account_id",
    "resource_group",
    "vpc",
    "k8s_namespace",
    "resource_id_contains",
)
SHARED_MATCH_KEYS = (*HIERARCHY_MATCH_KEYS, "charge_category", "service_category")
SHARED_MATCH_KEYS_EXTRA = ("service_name_contains",)


class RulesError(ValueError):
    """The rules file is invalid; the message names the rule id and the problem."""


class AmbiguousRuleError(RulesError):
    """Two rules of equal priority match the same cost; the message names both rule ids."""


Match = dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class HierarchyRule:
    """Costs matching `match` belong to one business unit."""

    id: str
    priority: int
    match: Match
    business_unit: str


@dataclass(frozen=True)
class SharedRule:
    """Costs matching `match` form a pool split over `targets` by `driver`."""

    id: str
    priority: int
    match: Match
    driver: str
    targets: tuple[str, ...]
    percentages: dict[str, Decimal]
    k8s: K8sSplit = AWS_SPLIT  # driver k8s_usage: resource weights and shared namespaces
    split_by: SplitBy | None = None  # instead of a driver: another table's usage (split_by.py)


@dataclass(frozen=True)
class AllocationRules:
    """A validated, versioned rule set; `data_version` identifies its exact content."""

    version: str
    content_hash: str
    business_units: tuple[str, ...]
    tag_keys: tuple[str, ...]
    tag_values: dict[str, dict[str, str]]  # tag key -> lower-case value -> business unit
    hierarchy: tuple[HierarchyRule, ...]
    shared: tuple[SharedRule, ...]
    document_json: str = field(default="", compare=False, repr=False)  # what was hashed
    fx: FxPolicy = DAILY_POLICY  # `fx:` of the file: daily or month_locked (fx_policy.py)

    @property
    def data_version(self) -> str:
        """The version plus the content hash prefix: changes whenever the rules change."""
        return f"{self.version}-{self.content_hash[:12]}"

    def namespace_units(self) -> dict[str, str]:
        """Kubernetes namespace -> business unit, from the hierarchy rules that name namespaces."""
        result: dict[str, str] = {}
        for rule in sorted(self.hierarchy, key=lambda r: -r.priority):
            for namespace in rule.match.get("k8s_namespace", ()):
                result.setdefault(namespace, rule.business_unit)
        return result
