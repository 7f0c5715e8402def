"""One run of the money path for a window of days, in this process (a child the suite may kill).

Usage: FINOPS_HOME=... python -m finops_assets_tests.chaos.run_window START END
FINOPS_CHAOS_RESOURCES may hold JSON resource config (budgets file, event sinks) for the run.
Exit 0 when the Dagster run succeeded, 1 when it failed.
"""

import datetime as dt
import json
import os
import sys

import dagster as dg

from finops_assets.demo import prepare_instance
from finops_assets.settings import Settings

# The money path from landing files to budget events (recommendations and KPIs left out).
MONEY_PATH = (
    "aws_cost_explorer_raw,aws_cur_raw,gcp_billing_export_raw,azure_cost_raw,focus_export_raw,"
    "k8s_usage_raw,fx_rates,service_catalog,normalized_costs,allocation_rules,applicable_rules,"
    "allocated_costs,"
    "allocation_audit,budget_status,budget_events"
)


def main(argv: list[str]) -> int:
    start, end = dt.date.fromisoformat(argv[0]), dt.date.fromisoformat(argv[1])
    instance = prepare_instance(Settings.from_env())
    from finops_assets.definitions import defs

    job = defs.resolve_implicit_global_asset_job_def().get_subset(
        asset_selection={dg.AssetKey(key) for key in MONEY_PATH.split(",")}
    )
    run_config: dict = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    resources = json.loads(os.environ.get("FINOPS_CHAOS_RESOURCES") or "{}")
    if resources:
        run_config["resources"] = {name: {"config": c} for name, c in resources.items()}
    result = job.execute_in_process(
        instance=instance,
        run_config=run_config,
        tags={
            "dagster/asset_partition_range_start": start.isoformat(),
            "dagster/asset_partition_range_end": end.isoformat(),
            "finops/trigger": "make chaos",
        },
        raise_on_error=False,
    )
    print(json.dumps({"run_id": result.run_id, "success": result.success}), flush=True)
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
