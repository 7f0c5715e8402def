"""The billing sources the platform ingests, in one list (each a domain.sources module)."""

from finops_assets.domain.sources import (
    aws_cost_explorer,
    aws_cur,
    azure_cost,
    focus_export,
    gcp_billing_export,
)

BILLING_SOURCES = (aws_cost_explorer, aws_cur, gcp_billing_export, azure_cost, focus_export)
