"""Stage 5, actuate: budgets, events to the outside world, and KPIs on the pipeline itself."""
