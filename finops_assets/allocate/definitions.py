"""The allocate stage's definitions."""

import dagster as dg

from finops_assets.allocate.assets import allocated_costs, allocation_rules
from finops_assets.allocate.audit import allocation_audit
from finops_assets.allocate.sensors import reallocation_sensor

defs = dg.Definitions(
    assets=[allocation_rules, allocated_costs, allocation_audit],
    sensors=[reallocation_sensor],
)
