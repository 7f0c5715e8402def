"""Reference data the product ships (ECB rates, ISO 4217, service catalog, tag aliases)."""

import csv
import io
from collections.abc import Mapping
from functools import cache
from importlib import resources

import yaml

_PACKAGE = "finops_assets.reference"

ECB_RATES_FILE = "ecb_eurofxref_hist.csv"
MINOR_UNITS_FILE = "iso4217_minor_units.csv"
SERVICE_CATALOG_FILE = "service_catalog.csv"
AZURE_PRICING_UNITS_FILE = "azure_pricing_units.csv"
TAG_ALIASES_FILE = "tag_aliases.yaml"


def reference_bytes(name: str) -> bytes:
    """The raw bytes of one shipped reference file."""
    return resources.files(_PACKAGE).joinpath(name).read_bytes()


def reference_text(name: str) -> str:
    """The text (UTF-8) of one shipped reference file."""
    return reference_bytes(name).decode("utf-8")


@cache
def minor_units_table() -> Mapping[str, int]:
    """ISO 4217 currency code -> number of minor units (JPY 0, USD 2, KWD 3, CLF 4)."""
    reader = csv.DictReader(io.StringIO(reference_text(MINOR_UNITS_FILE)))
    return {row["currency"]: int(row["minor_units"]) for row in reader}


def load_tag_aliases() -> dict[str, str]:
    """The shipped tag key alias map (normalized key -> canonical key)."""
    data = yaml.safe_load(reference_text(TAG_ALIASES_FILE)) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{TAG_ALIASES_FILE} must be a mapping of key -> canonical key")
    return {str(key): str(value) for key, value in data.items()}
