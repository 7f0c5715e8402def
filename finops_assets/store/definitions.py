"""The store stage's definitions."""

import dagster as dg

from finops_assets.store.assets import cost_by_business_unit

defs = dg.Definitions(assets=[cost_by_business_unit])
