"""The allocate stage's definitions."""

import dagster as dg

from finops_assets.allocate.assets import allocated_costs, allocation_rules

defs = dg.Definitions(assets=[allocation_rules, allocated_costs])
