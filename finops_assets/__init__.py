"""finops_assets: multi-cloud billing data as a Dagster asset graph."""

__version__ = "0.1.0"
