"""The normalize stage's definitions."""

import dagster as dg

from finops_assets.normalize.assets import fx_rates, normalized_costs, service_catalog

defs = dg.Definitions(assets=[fx_rates, service_catalog, normalized_costs])
