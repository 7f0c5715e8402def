"""Pure FinOps logic: Polars and Python only, no Dagster."""
