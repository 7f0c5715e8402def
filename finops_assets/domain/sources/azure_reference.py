"""Microsoft FinOps toolkit open data for the Azure FOCUS conversion (microsoft/finops-toolkit).

- Pricing units (`PricingUnits.csv`): UnitOfMeasure -> PricingBlockSize and DistinctUnits, so
  PricingQuantity = Quantity / PricingBlockSize and PricingUnit = ConsumedUnit = DistinctUnits
  (docs-mslearn/focus/convert.md).
- Services by (ConsumedService, ResourceType): the shipped service catalog's Azure rows keyed
  `<ConsumedService>|<resource type>` (from `Services.csv`, as Get-FinOpsService looks them up).
- The resource type of a resource ID, as the toolkit's Split-AzureResourceId computes it.
"""

import csv
import io
from functools import cache

import polars as pl

from finops_assets.domain.reference import (
    AZURE_PRICING_UNITS_FILE,
    SERVICE_CATALOG_FILE,
    reference_text,
)

PAIR_SEPARATOR = "|"
BLOCK_SIZE = pl.Decimal(38, 0)
UNIT_COLUMNS: dict[str, pl.DataType] = {
    "unit_of_measure": pl.Utf8(),
    "x_block_size": BLOCK_SIZE,
    "x_distinct_unit": pl.Utf8(),
}


@cache
def pricing_units() -> pl.DataFrame:
    """One row per UnitOfMeasure (the first the file lists): block size and distinct unit."""
    rows = csv.DictReader(io.StringIO(reference_text(AZURE_PRICING_UNITS_FILE)))
    seen: dict[str, tuple[int, str]] = {}
    for row in rows:
        seen.setdefault(row["UnitOfMeasure"], (int(row["PricingBlockSize"]), row["DistinctUnits"]))
    return pl.DataFrame(
        {
            "unit_of_measure": list(seen),
            "x_block_size": [size for size, _ in seen.values()],
            "x_distinct_unit": [unit for _, unit in seen.values()],
        }
    ).cast(UNIT_COLUMNS)  # type: ignore[arg-type]


@cache
def service_pairs() -> frozenset[str]:
    """The `<consumedservice>|<resource type>` keys (lower case) the shipped catalog maps."""
    rows = csv.DictReader(io.StringIO(reference_text(SERVICE_CATALOG_FILE)))
    return frozenset(
        r["service_code"].lower()
        for r in rows
        if r["provider"] == "azure" and PAIR_SEPARATOR in r["service_code"]
    )


def resource_type(resource_id: str | None) -> str | None:
    """Split-AzureResourceId's Type: the provider namespace and each type segment of the leaf.

    `/subscriptions/s/resourceGroups/g/providers/Microsoft.Sql/servers/a/databases/b` ->
    `Microsoft.Sql/servers/databases`; a trailing odd segment is dropped first.
    """
    if not resource_id or not resource_id.strip():
        return None
    text = resource_id if resource_id.startswith("/") else "/" + resource_id
    parts = text.rstrip("/").split("/")
    while len(parts) % 2 == 0:
        parts = parts[:-1]
    if len(parts) < 2:
        return None
    if parts[1].lower() == "providers" and len(parts) == 3:
        leaf = ["Microsoft.Resources", *parts[1:]]
    else:
        joined = "/".join([parts[0], "providers", "Microsoft.Resources", *parts[1:]])
        leaf = joined.replace("/PROVIDERS/", "/providers/").split("/providers/")[-1].split("/")
    return "/".join([leaf[0], *(leaf[i] for i in range(1, len(leaf)) if i % 2 == 1)])


def resource_types(resource_ids: pl.Series) -> pl.Series:
    """resource_type of each ID, computed once per distinct ID."""
    distinct = resource_ids.drop_nulls().unique().to_list()
    mapping = {rid: resource_type(rid) for rid in distinct}
    return resource_ids.replace_strict(mapping, default=None, return_dtype=pl.Utf8)
