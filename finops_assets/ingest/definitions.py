"""The ingest stage's definitions: one raw asset per source, k8s usage, the landing sensor."""

import dagster as dg

from finops_assets.ingest.assets import build_raw_asset
from finops_assets.ingest.azure_blob_sensor import azure_blob_export_sensor
from finops_assets.ingest.driver_assets import allocation_drivers_raw
from finops_assets.ingest.driver_sensor import allocation_drivers_sensor
from finops_assets.ingest.gcs_sensor import gcs_export_sensor
from finops_assets.ingest.k8s_assets import k8s_usage_raw
from finops_assets.ingest.s3_sensor import s3_export_sensor
from finops_assets.ingest.schedules import restatement_schedule
from finops_assets.ingest.sensors import landing_folder_sensor
from finops_assets.sources import BILLING_SOURCES

defs = dg.Definitions(
    assets=[
        *[build_raw_asset(source) for source in BILLING_SOURCES],
        k8s_usage_raw,
        allocation_drivers_raw,
    ],
    sensors=[
        landing_folder_sensor,
        s3_export_sensor,
        gcs_export_sensor,
        azure_blob_export_sensor,
        allocation_drivers_sensor,
    ],
    schedules=[restatement_schedule],
    # The sensors' `s3`, `gcs` and `azure_blob` resources are registered in definitions.py,
    # which hands the same ones to the landing resource for the reads.
)
