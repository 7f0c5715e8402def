"""Reconstructable jobs for runs whose steps execute in other processes (multiprocess executor)."""

import dagster as dg

JOB_NAME = "ingest_and_normalize"


def ingest_and_normalize_job() -> dg.JobDefinition:
    """Every ingest and normalize asset: the six raw sources are independent steps."""
    from finops_assets.definitions import defs

    job = dg.define_asset_job(JOB_NAME, selection=dg.AssetSelection.groups("ingest", "normalize"))
    return dg.Definitions.merge(defs, dg.Definitions(jobs=[job])).resolve_job_def(JOB_NAME)
