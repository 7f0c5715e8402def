"""The allocate stage's definitions."""

import dagster as dg

from finops_assets.allocate.applicable import applicable_rules
from finops_assets.allocate.assets import allocated_costs, allocation_rules
from finops_assets.allocate.audit import allocation_audit
from finops_assets.allocate.pending import pending_adjustments
from finops_assets.allocate.preview import allocation_preview
from finops_assets.allocate.rule_currency import check_rules_current
from finops_assets.allocate.sensors import reallocation_sensor

defs = dg.Definitions(
    assets=[
        allocation_rules,
        applicable_rules,
        allocated_costs,
        allocation_audit,
        allocation_preview,
        pending_adjustments,
    ],
    asset_checks=[check_rules_current],
    sensors=[reallocation_sensor],
)
