"""Reading back what Dagster recorded for a tested asset's day."""

import datetime as dt

import dagster as dg


def latest_materialization(
    instance: dg.DagsterInstance, key: str, day: dt.date
) -> dg.AssetMaterialization:
    """The newest materialization of asset `key`'s partition `day` (there must be one)."""
    [record] = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(key), asset_partitions=[day.isoformat()]),
        limit=1,
    ).records
    assert record.asset_materialization is not None
    return record.asset_materialization
