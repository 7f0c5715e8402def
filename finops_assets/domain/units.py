"""Provider units of measure -> FOCUS UnitFormat ('Hours', 'GB-Months', 'GiB-Hours', 'Requests').

FOCUS units are a data-size or count unit, optionally joined to a plural time unit by '-'
('GB-Hours') or to a singular one by '/' ('GB/Hour'). Providers write 'Hrs', 'GB-Mo',
'gibibyte hour', 'N/A'; this maps the ones we see to FOCUS spelling, makes placeholders null and
leaves any other value unchanged (it still reaches the validator, which reports it).
"""

import polars as pl

_UNITS = {
    # AWS (CUR pricing_unit, Cost Explorer UsageQuantity unit)
    "hrs": "Hours",
    "hr": "Hours",
    "hours": "Hours",
    "hour": "Hours",
    "gb-mo": "GB-Months",
    "gb-month": "GB-Months",
    "gb-hours": "GB-Hours",
    "gb-hrs": "GB-Hours",
    "gb": "GB",
    "requests": "Requests",
    "request": "Requests",
    "count": "Count",
    "lcu-hrs": "LCU-Hours",
    "vcpu-hours": "vCPU-Hours",
    "vcpu-hrs": "vCPU-Hours",
    "iops-mo": "IOPS-Months",
    "queries": "Queries",
    "keys": "Keys",
    "seconds": "Seconds",
    "second": "Seconds",
    "lambda-gb-seconds": "GB-Seconds",  # the FOCUS 1.0 sample's AWS Lambda rows
    "gb-seconds": "GB-Seconds",
    # a provisioned rate per month: FOCUS joins only a data-size or count unit to a time unit
    "gib/second-months": "GiBps-Months",
    "mibps-mo": "MiBps-Months",
    # GCP (usage_pricing_unit)
    "gibibyte hour": "GiB-Hours",
    "gibibyte month": "GiB-Months",
    "gibibyte": "GiB",
    "tebibyte": "TiB",
    "tebibyte month": "TiB-Months",
    "mebibyte": "MiB",
    "gigabyte": "GB",
    "gigabyte hour": "GB-Hours",
    "gigabyte month": "GB-Months",
    "month": "Months",
    "day": "Days",
    "minute": "Minutes",
    # Azure (UnitOfMeasure, after the block size is split off)
    "1 hour": "Hours",
    "1 gb/month": "GB-Months",
    "1 gb": "GB",
}
_PLACEHOLDERS = ("", "n/a", "na", "none", "null", "-")


def focus_unit_expr(unit: pl.Expr) -> pl.Expr:
    """A provider unit in FOCUS UnitFormat spelling; placeholders ('N/A', '') become null."""
    key = unit.str.strip_chars().str.to_lowercase()
    mapped = key.replace_strict(_UNITS, default=unit.str.strip_chars(), return_dtype=pl.Utf8)
    return pl.when(key.is_in(_PLACEHOLDERS)).then(None).otherwise(mapped)
