"""A code location for crash tests: one asset whose step records its pid and then waits.

Loaded by a real `dagster-daemon` through a workspace file; the test kills or terminates the run
while the step waits. It lives in the test tree: the product has no use for it.
"""

import os
import time
from pathlib import Path

import dagster as dg

from finops_assets.instance_health import reap_canceled_steps_sensor, reap_orphaned_steps_sensor


@dg.asset
def sleepy() -> None:
    """Write this step's pid where the test looks, then wait long enough to be killed."""
    folder = Path(os.environ["FINOPS_CHAOS_PID_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"step-{os.getpid()}.pid").write_text(str(os.getppid()), encoding="utf-8")
    time.sleep(float(os.environ.get("FINOPS_CHAOS_SLEEP", "120")))


defs = dg.Definitions(
    assets=[sleepy],
    jobs=[dg.define_asset_job("sleepy_job", selection=[sleepy])],
    sensors=[reap_orphaned_steps_sensor, reap_canceled_steps_sensor],
)
