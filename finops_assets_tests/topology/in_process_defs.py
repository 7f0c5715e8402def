"""The code location the topology test's gRPC server loads: finops_assets.definitions as shipped,
with the in-process executor (each run's steps in that run's own worker process).

Everything else (assets, checks, sensors, resources) is the product's object itself. The
multiprocess executor would start one more Python per step; on the 2 shared cores of the test
machine that alone would take the test past its time budget.
"""

import dagster as dg

from finops_assets import definitions as product_module


def _in_process(product: dg.Definitions) -> dg.Definitions:
    """The product's definitions with the in-process executor (one Definitions at module scope)."""
    return dg.Definitions(
        assets=product.assets,
        asset_checks=product.asset_checks,
        sensors=product.sensors,
        schedules=product.schedules,
        resources=product.resources,
        executor=dg.in_process_executor,
    )


defs = _in_process(product_module.defs)
