"""The faults: each damages a copy of the baseline estate, runs, recovers, and is judged.

Every fault works on the last day of the window (DAY). A fault's row says how much money the
lake lost or duplicated against the billing files' real content once recovery is over, and
whether Dagster's status told the truth on the way (a killed run is found dead by run
monitoring, a damaged file fails its run or changes nothing, a run that says success holds the
right money).
"""

import datetime as dt
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from finops_assets.sample import focus_export_writer, gcp_billing_export_writer
from finops_assets.sample.delivery_layout import landed_name
from finops_assets.sample.generate import day_files, generate_estate
from finops_assets_tests.chaos.harness import (
    Estate,
    KillPoint,
    RunOutcome,
    failed_steps,
    worker_is_dead,
)
from finops_assets_tests.chaos.money import describe, landing_truth, stage_balance


@dataclass
class Row:
    """One line of the chaos table."""

    fault: str
    lost: str
    duplicated: str
    honest: bool
    note: str

    @property
    def clean(self) -> bool:
        return self.lost == "0" and self.duplicated == "0" and self.honest


@dataclass(frozen=True)
class Window:
    """The days of the estate and the seed it was generated with."""

    days: list[dt.date]
    seed: int
    rows_per_day: int

    @property
    def day(self) -> dt.date:
        return self.days[-1]


Fault = Callable[[Estate, Window], Row]


def judge(estate: Estate, window: Window, fault: str, honest: bool, note: str) -> Row:
    """Compare the lake with the truth of every day in the window (pristine files)."""
    truth = landing_truth(estate.pristine, window.days)
    lost, duplicated = stage_balance(estate.lake, truth, window.days)
    return Row(fault, describe(lost), describe(duplicated), honest, note)


def kill_fault(point: KillPoint, restate: bool = False) -> Fault:
    """kill -9 at `point` while a new day (or a restated one) is written, then a re-run."""
    label = f"{point.label}{' (restated day)' if restate else ''}"

    def fault(estate: Estate, window: Window) -> Row:
        if restate:
            restate_gcp(estate, window)
        else:
            window = add_day(estate, window)
        killed = estate.run_and_kill(window.day, window.day, point)
        if not killed.killed:
            return judge(estate, window, label, False, "kill point not reached")
        run = estate.newest_run()
        dead = worker_is_dead(estate, run.run_id if run else None)
        not_green = run is not None and run.status.value != "SUCCESS"
        recovered = estate.run(window.day, window.day)
        honest = dead and not_green and recovered.returncode == 0
        note = f"killed run {'found dead' if dead else 'NOT found dead'}; re-run "
        note += _status(estate, recovered).removeprefix("run ")
        return judge(estate, window, label, honest, note)

    return fault


def add_day(estate: Estate, window: Window) -> Window:
    """The next day's files arrive (every source), in the landing folder and the truth."""
    day = window.day + dt.timedelta(days=1)
    for folder in (estate.landing, estate.pristine):
        generate_estate(folder, day, 1, window.seed, window.rows_per_day)
    return Window([*window.days, day], window.seed, window.rows_per_day)


def restate_gcp(estate: Estate, window: Window) -> None:
    """The provider restates DAY: GCP's files for it are re-delivered with other amounts."""
    _replace_day(estate, gcp_billing_export_writer.write_day, "gcp_billing_export", window, 7)


def _replace_day(estate: Estate, writer, source: str, window: Window, salt: int) -> None:  # type: ignore[no-untyped-def]
    rows = max(1, int(window.rows_per_day * 0.25))
    with tempfile.TemporaryDirectory() as scratch:
        writer(Path(scratch), window.day, window.seed + salt, rows)
        produced = {
            landed_name(source, path.name, window.day)[1]: path.read_bytes()
            for path in (Path(scratch) / source / window.day.isoformat()).iterdir()
        }
        for folder in (estate.landing, estate.pristine):
            landed = day_files(folder, source, window.day)
            assert sorted(p.name for p in landed) == sorted(produced), landed
            for path in landed:  # the restated parts replace the day's parts in the delivery
                path.write_bytes(produced[path.name])


def no_fault(estate: Estate, window: Window) -> Row:
    """Control: a re-run of an unchanged day."""
    outcome = estate.run(window.day, window.day)
    return judge(estate, window, "none (control re-run)", outcome.returncode == 0, "")


def restated_file(estate: Estate, window: Window) -> Row:
    """A restated delivery: the day's GCP files replaced by new amounts."""
    restate_gcp(estate, window)
    outcome = estate.run(window.day, window.day)
    return judge(
        estate, window, "restated files", outcome.returncode == 0, _status(estate, outcome)
    )


def duplicate_file(estate: Estate, window: Window) -> Row:
    """The same bytes delivered twice under another name in the day's folder."""
    original = _focus_csv(estate.landing, window.day)
    shutil.copyfile(original, original.with_name(f"copy-of-{original.name}"))
    outcome = estate.run(window.day, window.day)
    return judge(
        estate, window, "duplicated file", outcome.returncode == 0, _status(estate, outcome)
    )


def truncated_file(estate: Estate, window: Window) -> Row:
    """A re-delivery cut at a row boundary (the last third of its rows missing)."""
    path = _focus_csv(estate.landing, window.day)
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[: max(2, len(lines) * 2 // 3)]))
    return _damaged_file_row(estate, window, "truncated file", path)


def torn_file(estate: Estate, window: Window) -> Row:
    """A re-delivery whose last row is cut halfway (no newline after it)."""
    path = _focus_csv(estate.landing, window.day)
    data = path.read_bytes().rstrip(b"\n")
    path.write_bytes(data[: data.rfind(b"\n") + 1 + (len(data) - data.rfind(b"\n")) // 2])
    return _damaged_file_row(estate, window, "torn file", path)


def _damaged_file_row(estate: Estate, window: Window, fault: str, path: Path) -> Row:
    """A damaged file must fail its run (naming it) or leave the day's money as it was."""
    before = stage_balance(estate.lake, landing_truth(estate.pristine, window.days), window.days)
    log = estate.root / "runs.log"
    offset = log.stat().st_size if log.exists() else 0
    outcome = estate.run(window.day, window.day)
    after = stage_balance(estate.lake, landing_truth(estate.pristine, window.days), window.days)
    with log.open("rb") as handle:
        handle.seek(offset)
        named = path.name in handle.read().decode(errors="replace")
    failed = outcome.returncode != 0
    honest = (failed and named) or (not failed and after == before)
    note = _status(estate, outcome) + (", file named in the failure" if failed and named else "")
    return judge(estate, window, fault, honest, note)


def concurrent_runs(estate: Estate, window: Window) -> Row:
    """Two runs of the same restated day at once; a failed one is retried once."""
    restate_gcp(estate, window)
    first, second = (estate.start(window.day, window.day) for _ in range(2))
    codes = [first.wait(), second.wait()]
    honest = True
    if 0 in codes:  # a run that says success must hold the right money already
        lost, duplicated = stage_balance(
            estate.lake, landing_truth(estate.pristine, window.days), window.days
        )
        honest = not lost and not duplicated
    if any(codes):
        honest = estate.run(window.day, window.day).returncode == 0 and honest
    return judge(estate, window, "two runs of one day at once", honest, f"exit codes {codes}")


def zero_sum_day(estate: Estate, window: Window) -> Row:
    """A new day whose only bill is charges and their equal credits (total 0)."""
    day = window.day + dt.timedelta(days=1)
    with tempfile.TemporaryDirectory() as scratch:
        [produced] = focus_export_writer.write_day(Path(scratch), day, window.seed, 20)
        frame = pl.read_csv(produced, infer_schema=False)
        money = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost")
        negated = frame.with_columns(
            *[_negate(pl.col(c)) for c in money if c in frame.columns],
            pl.lit("Credit").alias("ChargeCategory"),
        )
        for folder in (estate.landing, estate.pristine):
            target = folder / "focus_export" / day.isoformat()
            target.mkdir(parents=True, exist_ok=True)
            pl.concat([frame, negated]).write_csv(target / produced.name)
    outcome = estate.run(day, day)
    zero_window = Window([*window.days, day], window.seed, window.rows_per_day)
    return judge(
        estate, zero_window, "zero-sum day", outcome.returncode == 0, _status(estate, outcome)
    )


def _negate(column: pl.Expr) -> pl.Expr:
    text = column.str.strip_chars()
    return (
        pl.when(text.str.starts_with("-"))
        .then(text.str.strip_prefix("-"))
        .when(text.is_null() | (text == ""))
        .then(text)
        .otherwise(pl.lit("-") + text)
    )


def _focus_csv(landing: Path, day: dt.date) -> Path:
    return day_files(landing, "focus_export", day)[0]


def _status(estate: Estate, outcome: RunOutcome) -> str:
    if outcome.returncode == 0:
        return "run succeeded"
    steps = failed_steps(estate, outcome.run_id)
    return (
        f"run failed at {', '.join(steps)}" if steps else f"run failed (exit {outcome.returncode})"
    )


OUTAGE_BUDGETS = """
budgets:
  - id: chaos-all-aws
    scope: {kind: provider, value: aws}
    amount: "10"
    currency: USD
    thresholds: [50, 100, 1000]
    basis: actual
    enforcement: none
"""


def sink_outage(estate: Estate, window: Window) -> Row:
    """The events receiver answers 503 for a whole run, then comes back; each event once."""
    from finops_assets_tests.actuate.tls_servers import RecordingServer, write_self_signed_cert

    cert, key = write_self_signed_cert(estate.root / "tls")
    receiver = RecordingServer(cert, key, default_status=503).start()
    (estate.root / "budgets.yaml").write_text(OUTAGE_BUDGETS, encoding="utf-8")
    estate.resources = {
        "budgets": {"path": str(estate.root / "budgets.yaml")},
        "sinks": {
            "cloudevents_webhook_url": receiver.url + "/events",
            "cloudevents_webhook_token": "chaos-token",
            "url_allowlist": ["127.0.0.1"],
            "ca_bundle": str(cert),
            "retries": 1,
            "backoff_seconds": 0.01,
        },
    }
    try:
        window = add_day(estate, window)
        during = estate.run(window.day, window.day)
        refused = len(receiver.rejected)
        receiver.default_status = 200
        after = estate.run(window.day, window.day)
        delivered = [r.json()["id"] for r in receiver.received]
    finally:
        receiver.stop()
    raised = _logged_event_ids(estate)
    lost = len(raised - set(delivered))
    twice = len(delivered) - len(set(delivered))
    honest = refused > 0 and after.returncode == 0 and lost == 0 and twice == 0 and bool(raised)
    note = (
        f"{len(raised)} events; during the outage {refused} refused deliveries "
        f"({_status(estate, during)}); after it {len(set(delivered))} delivered, "
        f"{lost} never, {twice} twice"
    )
    return judge(estate, window, "sink outage (HTTP 503)", honest, note)


def _logged_event_ids(estate: Estate) -> set[str]:
    from finops_assets.resources.json_lines import read_json_lines

    log = estate.home / "events" / "budget_events.jsonl"
    return {str(record["id"]) for record in read_json_lines(log).records}


KILL_POINTS = (
    KillPoint("kill -9: ingest step starts", step="gcp_billing_export_raw", delay_seconds=0.2),
    KillPoint("kill -9: ingest commit done", table="gcp_billing_export_raw"),
    KillPoint("kill -9: normalize step starts", step="normalized_costs", delay_seconds=0.3),
    KillPoint("kill -9: normalize commit done", table="normalized_costs"),
    KillPoint("kill -9: allocate step starts", step="allocated_costs", delay_seconds=0.3),
    KillPoint("kill -9: allocate commit done", table="allocated_costs"),
    KillPoint("kill -9: actuate step starts", step="budget_status", delay_seconds=0.1),
    KillPoint("kill -9: actuate commit done", table="budget_status"),
)

FAULTS: list[Fault] = [
    no_fault,
    *(kill_fault(point) for point in KILL_POINTS),
    kill_fault(KILL_POINTS[3], restate=True),
    duplicate_file,
    restated_file,
    truncated_file,
    torn_file,
    concurrent_runs,
    sink_outage,
    zero_sum_day,
]
FAST_FAULTS: list[Fault] = [duplicate_file, kill_fault(KILL_POINTS[3])]
