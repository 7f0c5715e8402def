"""The report stage's definitions."""

import dagster as dg

from finops_assets.report.assets import finops_report

defs = dg.Definitions(assets=[finops_report])
