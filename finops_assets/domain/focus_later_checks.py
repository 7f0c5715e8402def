"""Pandera checks of the FOCUS 1.1-1.4 model columns (FOCUS_LATER_COLUMNS), shared by contracts.

normalized_costs and the FOCUS 1.3 dataset check the same conditions of the FOCUS spec:
CapacityReservationStatus is Used or Unused; ContractApplied and SkuPriceDetails are JSON
objects; a CommitmentDiscountQuantity has its CommitmentDiscountUnit; every row names its
service provider and host provider.
"""

import json

import pandera.polars as pa
import polars as pl

from finops_assets.domain.distinct_map import map_distinct

LATER_REQUIRED = ("ServiceProviderName", "HostProviderName")


def _is_json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


def _json_object_check() -> pa.Check:
    def check(data) -> pl.LazyFrame:
        column = pl.col(data.key)
        parsed = map_distinct(column, _is_json_object, pl.Boolean())  # once per distinct text
        return data.lazyframe.select(column.is_null() | parsed)

    return pa.Check(check, name="json_object")


LATER_COLUMN_CHECKS: dict[str, list[pa.Check]] = {
    "CapacityReservationStatus": [pa.Check.isin(["Used", "Unused"])],
    "ContractApplied": [_json_object_check()],
    "SkuPriceDetails": [_json_object_check()],
}

LATER_FRAME_CHECKS: list[pa.Check] = [
    pa.Check(
        lambda data: data.lazyframe.select(
            pl.col("CommitmentDiscountQuantity").is_null()
            | pl.col("CommitmentDiscountUnit").is_not_null()
        ),
        name="commitment_discount_quantity_has_unit",
    )
]
