"""Publish stage: FOCUS datasets other tools read (focus_cost_allocation)."""
