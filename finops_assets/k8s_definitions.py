"""The definitions for a Kubernetes deployment: the same assets, every step a Kubernetes Job.

Served by the code location image (see Dockerfile and deploy/helm/values.yaml). Runs are
launched by the K8sRunLauncher configured on the instance; this executor fans their steps out.
"""

import dagster as dg
from dagster_k8s import k8s_job_executor

from finops_assets import definitions as base

defs = dg.Definitions.merge(base.defs, dg.Definitions(executor=k8s_job_executor))
