"""Every asset check of the code location says, in the UI, what it guards."""

import dagster as dg


def test_every_asset_check_has_a_description():
    from finops_assets.definitions import defs

    graph = defs.resolve_asset_graph()
    specs = [graph.get_check_spec(key) for key in graph.asset_check_keys]
    assert len(specs) > 20
    missing = sorted(spec.key.to_user_string() for spec in specs if not spec.description)
    assert missing == []


def test_every_check_of_a_day_partitioned_asset_reports_per_day():
    """Check results carry their partition: the specs of day-partitioned assets are partitioned."""
    from finops_assets.definitions import defs

    graph = defs.resolve_asset_graph()
    unpartitioned = sorted(
        key.to_user_string()
        for key in graph.asset_check_keys
        if graph.get(key.asset_key).partitions_def is not None
        and graph.get_check_spec(key).partitions_def is None
    )
    assert unpartitioned == [], unpartitioned
    assert dg.__version__ == "1.13.27"
