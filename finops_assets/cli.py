"""The `finops` command line: what people do outside the Dagster UI."""

import argparse
import datetime as dt
import os
import signal
import socket
import sys
from pathlib import Path

from finops_assets.settings import Settings, SettingsError

UI_HOST = "127.0.0.1"


def _demo(args: argparse.Namespace) -> int:
    from finops_assets.demo import run_demo
    from finops_assets.summary import render_report

    settings = Settings.from_env()
    print(f"Generating the sample estate into {settings.landing_dir} ...", flush=True)
    print("Materializing every asset (one line per step as it finishes):", flush=True)
    run = run_demo(
        settings,
        args.start,
        args.days,
        args.rows_per_day,
        args.seed,
        progress=lambda line: print(line, flush=True),
    )
    if not run.success:
        print(
            f"The Dagster run {run.run_id} failed; open `make dev` and look at that run.",
            file=sys.stderr,
        )
        return 1
    print(
        f"Materialized every asset for {run.start}..{run.end} in run {run.run_id} "
        f"({run.files_changed} landing files changed).\n"
    )
    print(render_report(settings, run.start, run.end))
    return 0


def _inspect(args: argparse.Namespace) -> int:
    from finops_assets.inspect import inspect_file

    print(inspect_file(Path(args.path)))
    return 0


def _load(args: argparse.Namespace) -> int:
    from finops_assets.loading import LoadError, load_paths, render

    try:
        outcome, notes = load_paths(Settings.from_env(), [Path(p) for p in args.paths])
    except LoadError as error:
        print(f"finops load: {error}", file=sys.stderr)
        return 2
    for line in notes:
        print(line)
    print(render(outcome))
    return 0 if outcome.reconciled else 1


def _check(args: argparse.Namespace) -> int:
    from finops_assets.deploy_checks import StartupCheckError, run_startup_checks

    try:
        for line in run_startup_checks(Settings.from_env()):
            print(f"ok  {line}")
    except StartupCheckError as error:
        print(f"finops check: {error}", file=sys.stderr)
        return 2
    return 0


def _rules_diff(args: argparse.Namespace) -> int:
    from finops_assets.allocate.preview import preview_days
    from finops_assets.domain.preview import render_preview
    from finops_assets.domain.rule_history import load_rule_history
    from finops_assets.storage import tables
    from finops_assets.storage.delta import DeltaLake

    candidate = load_rule_history(Path(args.candidate).read_text(encoding="utf-8"))
    delta = DeltaLake(Settings.from_env().lake_uri)
    if not delta.exists(tables.ALLOCATED_COSTS):
        print("finops rules diff: nothing allocated yet (run `finops demo`)", file=sys.stderr)
        return 2
    booked = delta.scan(tables.ALLOCATED_COSTS).select("x_charge_date").unique().collect()
    days = sorted(
        d
        for d in booked["x_charge_date"].to_list()
        if (args.start is None or d >= args.start) and (args.end is None or d <= args.end)
    )
    print(render_preview(preview_days(delta, candidate, days)))
    return 0


def _os_user() -> str:
    """The OS account running the command (the audit's default `by`)."""
    import pwd

    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:  # an uid without a passwd entry (some containers)
        return f"uid-{os.getuid()}"


def _period(args: argparse.Namespace) -> int:
    from finops_assets.allocate.closed_periods import change_period
    from finops_assets.storage.delta import DeltaLake

    delta = DeltaLake(Settings.from_env().lake_uri)
    by = args.by if args.by is not None else _os_user()
    now = dt.datetime.now(dt.UTC)
    print(change_period(delta, args.period, args.command, by, args.reason, now))
    return 0


def port_in_use_message(host: str, port: int) -> str | None:
    """One line saying why `port` on `host` cannot be served, or None when it is free."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as error:
            return (
                f"port {port} on {host} is already in use ({error.strerror}); "
                "stop what uses it or set FINOPS_UI_PORT to a free port"
            )
    return None


# `dagster dev` warns that `dg dev` supersedes it; `dg` is not part of this project's install.
_DEV_WARNING_FILTER = "ignore:Function `dev_command` is superseded"


def _dev(args: argparse.Namespace) -> int:
    from finops_assets.demo import prepare_instance

    settings = Settings.from_env()
    port = args.port or settings.ui_port
    busy = port_in_use_message(UI_HOST, port)
    if busy:
        print(f"finops dev: {busy}", file=sys.stderr)
        return 3
    prepare_instance(settings)
    workspace = Path(__file__).resolve().parents[1] / "workspace.yaml"
    command = ["-W", _DEV_WARNING_FILTER, "-m", "dagster", "dev", "-h", UI_HOST, "-p", str(port)]
    if workspace.exists():
        command += ["-w", str(workspace)]
    else:
        command += ["-m", "finops_assets.definitions"]
    print(f"finops dev: the Dagster UI starts on http://{UI_HOST}:{port}", flush=True)
    # This interpreter running dagster's CLI; argv built from constants and an int port.
    os.execv(sys.executable, [sys.executable, *command])  # noqa: S606
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="finops", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="generate the sample estate and run every stage")
    demo.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2026, 10, 1))
    demo.add_argument("--days", type=int, default=31)
    demo.add_argument("--rows-per-day", type=int, default=2_000)
    demo.add_argument("--seed", type=int, default=20261001)
    demo.set_defaults(handler=_demo)
    inspect = commands.add_parser("inspect", help="detect, parse and total a billing file")
    inspect.add_argument("path")
    inspect.set_defaults(handler=_inspect)
    load = commands.add_parser(
        "load", help="load export files or folders as downloaded, run their days, reconcile"
    )
    load.add_argument("paths", nargs="+", metavar="PATH")
    load.set_defaults(handler=_load)
    check = commands.add_parser(
        "check", help="check the instance database, sources and lake are reachable"
    )
    check.set_defaults(handler=_check)
    rules = commands.add_parser("rules", help="allocation rules: preview a candidate file")
    rules_commands = rules.add_subparsers(dest="rules_command", required=True)
    diff = rules_commands.add_parser(
        "diff", help="per day and business unit: booked, with CANDIDATE, delta (writes nothing)"
    )
    diff.add_argument("candidate", metavar="CANDIDATE.yaml")
    diff.add_argument("--start", type=dt.date.fromisoformat, default=None)
    diff.add_argument("--end", type=dt.date.fromisoformat, default=None)
    diff.set_defaults(handler=_rules_diff)
    for name, text in (
        ("close", "close a billing period (YYYY-MM): its booked allocation stops moving"),
        ("reopen", "reopen a closed billing period (a --reason is required)"),
    ):
        period = commands.add_parser(name, help=text)
        period.add_argument("period", metavar="YYYY-MM")
        period.add_argument("--reason", default="", help="why (recorded in period_audit)")
        period.add_argument("--by", default=None, help="who (default: the OS user)")
        period.set_defaults(handler=_period)
    dev = commands.add_parser("dev", help="start the Dagster UI on 127.0.0.1")
    dev.add_argument("--port", type=int, default=None, help="default: FINOPS_UI_PORT or 3000")
    dev.set_defaults(handler=_dev)
    return parser


def handle_sigint_even_in_the_background() -> None:
    """SIGINT handled even when the command started with it ignored (a script's `cmd &`).

    Dagster's in-process runs map SIGTERM to SIGINT's handler while a run lasts: left ignored,
    SIGTERM would be ignored too, and `kill` could not stop `finops load` or `finops demo`
    (test_background_signals.py).
    """
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `finops` console script; errors print one clear line, not a traceback."""
    args = build_parser().parse_args(argv)
    handle_sigint_even_in_the_background()
    try:
        return args.handler(args)
    except (SettingsError, FileNotFoundError, PermissionError, ValueError) as error:
        print(f"finops {args.command}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
