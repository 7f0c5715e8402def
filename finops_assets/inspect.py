"""`finops inspect PATH`: what the pipeline would do with one billing file, without writing.

The file goes through the same steps as in a run: detection, parsing, the raw checks' split of
good and quarantined rows, the FX rates of each charge day (shipped seed, plus the ECB feed when
one is configured), normalization and the quarantine limits of both stages. Nothing is written:
no archive, no table. Everything printed is printable text of bounded length: values read from
a file are shown through tables and excerpts, never as raw bytes.
"""

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import polars as pl

from finops_assets.domain import fx
from finops_assets.domain import normalize as normalize_domain
from finops_assets.domain.catalog import load_shipped_catalog
from finops_assets.domain.money import parse_money_expr
from finops_assets.domain.quarantine import QuarantineLimits
from finops_assets.domain.reference import load_tag_aliases
from finops_assets.domain.sources.common import (
    MAX_INFLATED_BYTES,
    QUARANTINE_COLUMNS,
    SourceFormatError,
    ingestion_key,
    printable_text,
)
from finops_assets.domain.sources.detect import detect_format
from finops_assets.ingest.checks import quarantine_threshold_result
from finops_assets.ingest.pipeline import IngestedDay
from finops_assets.normalize.checks import normalized_quarantine_result
from finops_assets.resources.reference import FxFeedError, FxRatesResource
from finops_assets.security.payload_bounds import check_payload_bounds
from finops_assets.settings import Settings
from finops_assets.sources import BILLING_SOURCES

_BY_NAME = {source.SOURCE: source for source in BILLING_SOURCES}
_MAX_LINE = 200
_FEED_TIMEOUT = 10.0


@dataclass(frozen=True)
class _DayRun:
    """One charge day of the file as the pipeline would see it."""

    day: dt.date
    normalized: pl.DataFrame
    quarantine: pl.DataFrame  # normalize-stage quarantine
    fx_problem: str | None
    verdicts: list[str]


def inspect_file(path: Path) -> str:
    """A text report: format, totals, per stage what would be quarantined and why, FX, limits."""
    try:
        return _printable(_report(path))
    except (SourceFormatError, ValueError) as error:
        raise SourceFormatError(printable_text(str(error))) from None


def _report(path: Path) -> str:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    data = path.read_bytes()
    check_payload_bounds(data, str(path), MAX_INFLATED_BYTES)  # a bomb is refused unopened
    fmt = detect_format(data, path.name)
    source = _BY_NAME.get(fmt)
    if source is None:
        raise SourceFormatError(f"{path}: detected {fmt}, which has no parser yet")
    fetched = dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC).replace(microsecond=0)
    key = ingestion_key(source.PROVIDER, fmt, fetched.date(), data)
    parsed = source.parse(data, source_file=str(path), ingestion_key=key, fetched_at=fetched)
    settings = Settings.from_env()
    lines = [f"{path}: {fmt} ({len(data):,} bytes)", f"rows parsed: {parsed.rows.height:,}"]
    if parsed.rows.height:
        days = parsed.rows["x_charge_date"]
        lines.append(f"charge days: {days.min()} .. {days.max()}")
    focus = source.to_focus(parsed.rows)
    runs = _normalize_days(focus, settings)
    with _table_config():
        lines += ["billed totals per currency:", str(source.billed_totals(parsed.rows))]
        lines += ["as FOCUS, per charge category:", str(_by_category(focus))]
        lines += _fx_lines(runs, settings.base_currency)
        lines += _quarantine_lines(parsed.quarantine, runs)
    lines += _limit_lines(source, parsed, runs, settings)
    return "\n".join(lines)


def _normalize_days(focus: pl.DataFrame, settings: Settings) -> list[_DayRun]:
    """Each charge day through FX and normalization, as normalized_costs would run it."""
    days = sorted(d for d in focus["x_charge_date"].unique().to_list() if d is not None)
    if not days:
        return []
    history, feed_problem = _rates(days)
    catalog, catalog_version = load_shipped_catalog()
    aliases = load_tag_aliases()
    runs = []
    for day in days:
        rows = focus.filter(pl.col("x_charge_date") == day)
        conversion, problem = _conversion(history, day, rows, settings.base_currency)
        if conversion is None:  # normalized_costs would wait for the day's rates
            empty = pl.DataFrame(schema=QUARANTINE_COLUMNS)
            runs.append(_DayRun(day, rows.head(0), empty, problem, []))
            continue
        result = normalize_domain.normalize_costs(
            rows,
            fx_rates=conversion,
            catalog=catalog,
            catalog_version=catalog_version,
            base_currency=settings.base_currency,
            tag_aliases=aliases,
        )
        runs.append(_DayRun(day, result.rows, result.quarantine, problem or feed_problem, []))
    return runs


def _rates(days: list[dt.date]) -> tuple[pl.DataFrame, str | None]:
    """The rates the fx_rates asset would use: the seed, completed from the feed when it is on."""
    resource = FxRatesResource(timeout_seconds=_FEED_TIMEOUT)
    try:
        return resource.history(days)[0], None
    except FxFeedError as error:
        seed = fx.load_ecb_rates(resource.csv_text())
        return seed, f"the ECB feed could not be read ({error}); the run would wait and retry"


def _conversion(
    history: pl.DataFrame, day: dt.date, rows: pl.DataFrame, base: str
) -> tuple[pl.DataFrame | None, str | None]:
    """Rates into the base currency for the day's currencies; a missing one is named.

    None when the base currency itself has no rate: normalized_costs then waits for the ECB
    to publish it (or fails the day once it gives up) instead of quarantining rows.
    """
    wanted = {c for c in rows["BillingCurrency"].drop_nulls().unique().to_list() if len(c) == 3}
    lookback = FxRatesResource().lookback_days
    window = history.filter(pl.col("rate_date").is_between(day - dt.timedelta(days=lookback), day))
    known = set(window["currency"].unique().to_list())
    missing = sorted(wanted - known - {base})
    try:
        day_rates = fx.rates_for_day(history, day, (wanted & known) | {base}, lookback)
        conversion = fx.conversion_rates(day_rates, base)
    except fx.FxRateMissingError as error:
        return None, f"{error}: normalized_costs would wait for it (rows not quarantined)"
    problem = f"no ECB rate for {', '.join(missing)} on {day}" if missing else None
    return conversion, problem


def _by_category(focus: pl.DataFrame) -> pl.DataFrame:
    return (
        focus.group_by("ChargeCategory", "BillingCurrency")
        .agg(pl.len().alias("rows"), pl.col("BilledCost").sum(), pl.col("EffectiveCost").sum())
        .sort("ChargeCategory", "BillingCurrency", nulls_last=True)
    )


def _fx_lines(runs: list[_DayRun], base: str) -> list[str]:
    problems = [f"  {run.day}: {run.fx_problem}" for run in runs if run.fx_problem]
    if not problems:
        return [f"FX to {base}: every currency has a rate on every charge day"]
    return [f"FX to {base}: rates missing on {len(problems)} charge day(s):", *problems[:20]]


def _quarantine_lines(parse_quarantine: pl.DataFrame, runs: list[_DayRun]) -> list[str]:
    """How many rows each stage would quarantine, grouped by column and reason with amounts."""
    normalize_quarantine = pl.concat(
        [run.quarantine.cast(QUARANTINE_COLUMNS) for run in runs]  # type: ignore[arg-type]
        or [pl.DataFrame(schema=QUARANTINE_COLUMNS)]
    )
    total = parse_quarantine.height + normalize_quarantine.height
    lines = [
        f"would be quarantined: {total:,} rows "
        f"(parse: {parse_quarantine.height:,}, normalize: {normalize_quarantine.height:,})"
    ]
    if not total:
        lines[0] = "would be quarantined: 0 rows"
        return lines
    both = pl.concat(
        [
            parse_quarantine.select(pl.lit("parse").alias("stage"), pl.all()),
            normalize_quarantine.select(pl.lit("normalize").alias("stage"), pl.all()),
        ]
    )
    grouped = (
        both.group_by("stage", "x_column", "x_reason", "x_currency")
        .agg(pl.len().alias("rows"), parse_money_expr("x_amount").sum().alias("amount"))
        .sort("rows", "stage", "x_reason", descending=[True, False, False])
    )
    lines.append(str(grouped.head(30)))
    return lines


def _limit_lines(source: ModuleType, parsed, runs: list[_DayRun], settings: Settings) -> list[str]:
    """Per charge day, whether each stage's check_quarantined_money would pass."""
    limits = QuarantineLimits.from_settings(settings)
    lines = ["quarantine limits:"]
    for run in runs:
        rows = parsed.rows.filter(pl.col("x_charge_date") == run.day)
        bad = parsed.quarantine.filter(pl.col("x_charge_date") == run.day)
        ingested = IngestedDay(rows, bad, [], ["file"], parsed_rows=rows)
        raw = quarantine_threshold_result(source, ingested, run.day, limits)
        normal = normalized_quarantine_result(run.day, run.normalized, run.quarantine, limits)
        for stage, outcome in (("raw", raw), ("normalize", normal)):
            for failure in outcome.failures[:5]:
                lines.append(
                    f"  {run.day}: {stage} stage would FAIL check_quarantined_money: "
                    + _failure_text(failure)
                )
    if len(lines) == 1:
        lines.append(f"  every charge day within limits (share {limits.max_share})")
    return lines


def _failure_text(failure: dict) -> str:
    if "money_column" in failure:
        return (
            f"{failure['quarantined']} {failure['currency']} of {failure['money_column']} "
            f"({failure['limit']}); top reasons: {'; '.join(failure['top_reasons'][:3])}"
        )
    return f"{failure.get('refused_files')} file(s) refused"


def _table_config() -> pl.Config:
    return pl.Config(
        tbl_rows=30,
        tbl_hide_dataframe_shape=True,
        fmt_str_lengths=80,
        tbl_hide_column_data_types=True,
    )


def _printable(report: str) -> str:
    """Each line printable (control and undecodable characters as '?') and bounded."""
    return "\n".join(printable_text(line, _MAX_LINE * 4) for line in report.splitlines())
