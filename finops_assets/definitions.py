"""Wiring only: every stage's definitions merged, with the embedded-default resources."""

import dagster as dg

from finops_assets.actuate import definitions as actuate
from finops_assets.allocate import definitions as allocate
from finops_assets.ingest import definitions as ingest
from finops_assets.normalize import definitions as normalize
from finops_assets.publish import definitions as publish
from finops_assets.report import definitions as report
from finops_assets.resources.cost_forecast import CostExplorerForecastResource, CostForecastResource
from finops_assets.resources.events import EventSinksResource
from finops_assets.resources.lake import LakeResource, LandingResource
from finops_assets.resources.reference import FxRatesResource
from finops_assets.resources.rules import RulesResource
from finops_assets.settings import Settings
from finops_assets.store import definitions as store


def cost_forecast_for(settings: Settings) -> CostForecastResource:
    """The real Cost Explorer forecast where Cost Explorer is read through its API, else none."""
    if settings.source_locations.get("aws_cost_explorer") == "api":
        return CostExplorerForecastResource()
    return CostForecastResource()


# Empty fields mean "resolve from FINOPS_* settings at run time" (never at import time).
RESOURCES = {
    "lake": LakeResource(),
    "landing": LandingResource(),
    "rates": FxRatesResource(),
    "rules": RulesResource(),
    "sinks": EventSinksResource(),
    "cost_forecast": cost_forecast_for(Settings.from_env()),
}

# Stage modules are imported as modules, not their `defs`: Dagster refuses a code location with
# more than one Definitions object at module scope.
defs = dg.Definitions.merge(
    ingest.defs,
    normalize.defs,
    allocate.defs,
    store.defs,
    actuate.defs,
    report.defs,
    publish.defs,
    dg.Definitions(resources=RESOURCES),
)
