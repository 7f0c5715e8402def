"""The store stage's definitions, with the lake's maintenance (vacuum, killed-run cleanup)."""

import dagster as dg

from finops_assets.instance_health import reap_canceled_steps_sensor, reap_orphaned_steps_sensor
from finops_assets.store.assets import cost_by_business_unit
from finops_assets.store.maintenance import lake_maintenance_schedule, vacuum_job

defs = dg.Definitions(
    assets=[cost_by_business_unit],
    jobs=[vacuum_job],
    schedules=[lake_maintenance_schedule],
    sensors=[reap_orphaned_steps_sensor, reap_canceled_steps_sensor],
)
