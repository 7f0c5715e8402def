"""Least-privilege access as code and input hardening (pure Python, no dagster import)."""
