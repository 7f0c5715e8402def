"""Check failures carrying Decimal amounts or days are reported, never a metadata error."""

import datetime as dt
from decimal import Decimal

import dagster as dg

from finops_assets.day_writer import json_safe


def test_decimal_and_date_failures_become_json_metadata():
    failures = [{"service_code": "AmazonXYZ", "cost": Decimal("1.2500000000")}]
    failures.append({"day": dt.date(2024, 9, 1), "rows": 3})
    value = dg.MetadataValue.json(json_safe(failures))
    assert value.data == [
        {"service_code": "AmazonXYZ", "cost": "1.2500000000"},
        {"day": "2024-09-01", "rows": 3},
    ]
