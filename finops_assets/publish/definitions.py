"""The publish stage's definitions."""

import dagster as dg

from finops_assets.publish.assets import focus_cost_allocation, focus_export

defs = dg.Definitions(assets=[focus_cost_allocation, focus_export])
