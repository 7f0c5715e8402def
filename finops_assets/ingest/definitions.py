"""The ingest stage's definitions: one raw asset per source, k8s usage, the landing sensor."""

import dagster as dg
from dagster_aws.s3 import S3Resource
from dagster_gcp import GCSResource

from finops_assets.ingest.assets import build_raw_asset
from finops_assets.ingest.azure_blob_sensor import azure_blob_export_sensor
from finops_assets.ingest.gcs_sensor import gcs_export_sensor
from finops_assets.ingest.k8s_assets import k8s_usage_raw
from finops_assets.ingest.s3_sensor import s3_export_sensor
from finops_assets.ingest.schedules import restatement_schedule
from finops_assets.ingest.sensors import landing_folder_sensor
from finops_assets.sources import BILLING_SOURCES

defs = dg.Definitions(
    assets=[*[build_raw_asset(source) for source in BILLING_SOURCES], k8s_usage_raw],
    sensors=[landing_folder_sensor, s3_export_sensor, gcs_export_sensor, azure_blob_export_sensor],
    schedules=[restatement_schedule],
    # S3 export files: endpoint and credentials from boto3's chain (AWS_ENDPOINT_URL, ...).
    resources={"s3": S3Resource(), "gcs": GCSResource()},
)
