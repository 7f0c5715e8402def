"""Wiring only: every stage's definitions merged, with the embedded-default resources."""

import dagster as dg

from finops_assets.actuate.definitions import defs as actuate_defs
from finops_assets.allocate.definitions import defs as allocate_defs
from finops_assets.ingest.definitions import defs as ingest_defs
from finops_assets.normalize.definitions import defs as normalize_defs
from finops_assets.resources.events import EventSinksResource
from finops_assets.resources.lake import LakeResource, LandingResource
from finops_assets.resources.reference import FxRatesResource
from finops_assets.resources.rules import RulesResource
from finops_assets.store.definitions import defs as store_defs

# Empty fields mean "resolve from FINOPS_* settings at run time" (never at import time).
RESOURCES = {
    "lake": LakeResource(),
    "landing": LandingResource(),
    "rates": FxRatesResource(),
    "rules": RulesResource(),
    "sinks": EventSinksResource(),
}

defs = dg.Definitions.merge(
    ingest_defs,
    normalize_defs,
    allocate_defs,
    store_defs,
    actuate_defs,
    dg.Definitions(resources=RESOURCES),
)
