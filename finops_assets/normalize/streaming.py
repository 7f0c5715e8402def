"""One charge day through normalization in bounded memory: per source, large sources in chunks.

Each source's raw day is read on its own, and a source over `chunk_rows` rows in chunks of
about that many rows (Azure stays whole: its actual and amortized exports are split per day).
Each chunk goes through to_focus and normalize_costs, row by row exactly as the whole day
would; its normalized rows are handed to `hold` (a SpillFolder: written to disk) and only
small per-chunk sums stay in memory, from which the checks and the metadata are computed:
they group and sum, so sums of chunk sums give exactly the whole day's figures. The day's
data version is the order-independent fingerprint of the same rows, so it does not change.

One step of normalization looks across rows: a service's ServiceCategory and ServiceSubcategory
are the day's minimum over its rows (catalog._one_category_per_service). Chunks that disagree
on them would differ from the whole day, so the day is then normalized whole instead
(`consistent` False), and the caller says so in the log.
"""

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import polars as pl

from finops_assets.domain import normalize as normalize_domain
from finops_assets.domain import row_conservation
from finops_assets.domain.catalog import UNMAPPED_COLUMNS
from finops_assets.domain.conservation import base_twin_mismatches
from finops_assets.domain.focus import SOURCE_FOCUS_COLUMNS
from finops_assets.domain.quarantine import MONEY_COLUMNS
from finops_assets.domain.sources import azure_cost, azure_datasets
from finops_assets.domain.sources.aws_cost_explorer_focus import with_billing_account
from finops_assets.normalize.checks import normalized_contract_result
from finops_assets.sources import BILLING_SOURCES
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake
from finops_assets.storage.fingerprint import (
    Fingerprint,
    frame_fingerprint,
    lineage_frame,
    lineages_version,
)
from finops_assets.storage.validation import ValidationOutcome

CHUNK_ROWS = 250_000
SUMMARY_KEYS = ("x_provider", "BillingCurrency", "ChargeCategory")
SUMMED = (*MONEY_COLUMNS, *normalize_domain.BASE_AMOUNT_COLUMNS.values())
_SERVICE = ("ServiceName", "ServiceCategory", "ServiceSubcategory")

Hold = Callable[[pl.DataFrame], Callable[[], pl.DataFrame]]


@dataclass
class StreamedDay:
    """A day normalized chunk by chunk: the held rows, and the sums the checks need."""

    held: list[Callable[[], pl.DataFrame]] = field(default_factory=list)
    row_count: int = 0
    rows_fingerprint: Fingerprint = field(default_factory=Fingerprint)
    rows_lineage: Fingerprint = field(default_factory=Fingerprint)  # of lineage_frame(rows)
    rows_summary: pl.DataFrame = field(default_factory=pl.DataFrame)  # SUMMARY_KEYS + SUMMED
    source_summary: pl.DataFrame = field(default_factory=pl.DataFrame)  # raw rows as FOCUS sums
    source_totals: pl.DataFrame = field(default_factory=pl.DataFrame)
    quarantine: pl.DataFrame = field(default_factory=pl.DataFrame)
    unmapped_services: pl.DataFrame = field(default_factory=pl.DataFrame)
    twin_mismatches: pl.DataFrame = field(default_factory=pl.DataFrame)
    row_counts: pl.DataFrame = field(default_factory=pl.DataFrame)  # row_conservation's report
    contract: ValidationOutcome = field(default_factory=lambda: ValidationOutcome(True, 0, []))
    without_billing_account: int = 0
    azure_datasets: str | None = None
    consistent: bool = True  # False: chunks disagree on a service's category (see module doc)

    def rows(self) -> Iterator[pl.DataFrame]:
        """The normalized rows, chunk by chunk, read back from where they were held."""
        for take in self.held:
            yield take()

    def lineage_version(self) -> str:
        """The lineage version of the day's rows and quarantine (the day memo's, day_memo.py):
        that of the whole day's frames, folded chunk by chunk."""
        quarantine = frame_fingerprint(lineage_frame(self.quarantine))
        return lineages_version([self.rows_lineage, quarantine])


def money_summary(frame: pl.DataFrame, keys: tuple[str, ...] = SUMMARY_KEYS) -> pl.DataFrame:
    """Per `keys`: the sums of every money column the frame has (nulls kept as a key)."""
    present = [c for c in SUMMED if c in frame.columns]
    return frame.group_by(list(keys)).agg(pl.col(c).sum() for c in present)


def _merged(parts: list[pl.DataFrame], keys: list[str], sums: list[str]) -> pl.DataFrame:
    frame = pl.concat(parts, how="diagonal_relaxed")
    return frame.group_by(keys).agg(pl.col(c).sum() for c in sums)


def _source_chunks(delta: DeltaLake, source: object, day: dt.date, chunk_rows: int) -> Iterator:
    contract = tables.raw_contract(source)  # type: ignore[arg-type]
    big = source is not azure_cost and delta.count_day(contract, day) > chunk_rows
    if not big:
        yield delta.read_day(contract, day)
        return
    yield from delta.read_day_chunks(contract, day, list(contract.columns), chunk_rows)


def _focus_chunks(
    delta: DeltaLake, day: dt.date, chunk_rows: int, out: StreamedDay, parts: dict[str, list]
) -> Iterator:
    """(source FOCUS rows, rows an amortized export counts) per chunk, sources in name order
    (so that a day of one chunk per source keeps the whole day's row order); each chunk's
    billed totals and row counts go to parts["totals"] and parts["counts"]."""
    notes = []
    for source in sorted(BILLING_SOURCES, key=lambda s: s.SOURCE):
        for raw in _source_chunks(delta, source, day, chunk_rows):
            counted, elsewhere = raw, None
            if source.SOURCE == azure_cost.SOURCE:
                counted, superseded = azure_datasets.split_counted_once(raw)
                notes.append(azure_datasets.datasets_note(raw))
                elsewhere = source.to_focus(superseded).select(list(SOURCE_FOCUS_COLUMNS))
            totals = source.billed_totals(raw).select(
                pl.lit(source.SOURCE).alias("x_source"), "currency", "amount"
            )
            parts["totals"].append(totals)
            focus = source.to_focus(counted).select(list(SOURCE_FOCUS_COLUMNS))
            made = focus.height + (0 if elsewhere is None else elsewhere.height)
            parts["counts"].append(row_conservation.source_counts(source.SOURCE, raw, made))
            del raw, counted
            yield focus, elsewhere
    out.azure_datasets = next(filter(None, notes), None)
    out.source_totals = pl.concat(parts["totals"], how="vertical_relaxed")


def normalize_day_streamed(
    delta: DeltaLake,
    day: dt.date,
    hold: Hold,
    *,
    catalog: pl.DataFrame,
    catalog_version: str,
    base_currency: str,
    tag_aliases: dict[str, str],
    aws_payer_account: str | None = None,
    chunk_rows: int | None = None,
) -> StreamedDay:
    """The day's sources normalized chunk by chunk (see the module doc); rows go to `hold`.

    `chunk_rows` defaults to CHUNK_ROWS (read at call time)."""
    chunk_rows = chunk_rows or CHUNK_ROWS
    from finops_assets.normalize.pipeline import day_rates_to_conversion

    fx_rates = day_rates_to_conversion(delta.read_day(tables.FX_RATES, day), base_currency)
    out = StreamedDay()
    parts: dict[str, list[pl.DataFrame]] = {
        k: []
        for k in (
            "rows",
            "source",
            "quarantine",
            "elsewhere",
            "unmapped",
            "twins",
            "keys",
            "totals",
            "counts",
            "counted",
        )
    }
    services: list[pl.DataFrame] = []
    for focus, elsewhere in _focus_chunks(delta, day, chunk_rows, out, parts):
        focus = with_billing_account(focus, aws_payer_account)
        parts["source"].append(money_summary(focus, ("BillingCurrency", "ChargeCategory")))
        if elsewhere is not None:
            parts["elsewhere"].append(elsewhere)
            parts["source"].append(money_summary(elsewhere, ("BillingCurrency", "ChargeCategory")))
        result = normalize_domain.normalize_costs(
            focus,
            fx_rates=fx_rates,
            catalog=catalog,
            catalog_version=catalog_version,
            base_currency=base_currency,
            tag_aliases=tag_aliases,
        )
        del focus
        _fold_rows(out, result.rows, parts, services)
        parts["quarantine"].append(result.quarantine)
        parts["unmapped"].append(result.unmapped_services)
        out.held.append(hold(result.rows))
    _finish(out, parts, services)
    return out


def _fold_rows(
    out: StreamedDay,
    rows: pl.DataFrame,
    parts: dict[str, list[pl.DataFrame]],
    services: list[pl.DataFrame],
) -> None:
    """What the checks need of one chunk's normalized rows, added to the day's."""
    out.row_count += rows.height
    out.rows_fingerprint.add(rows)
    out.rows_lineage.add(lineage_frame(rows))
    out.without_billing_account += int(rows["BillingAccountId"].null_count())
    parts["rows"].append(money_summary(rows))
    parts["counted"].append(row_conservation.normalized_row_counts(rows))
    parts["twins"].append(base_twin_mismatches(rows))
    key = pl.col("x_source_row_key")
    parts["keys"].append(
        rows.select(key.hash(1, 2, 3, 4).alias("a"), key.hash(5, 6, 7, 8).alias("b"))
    )
    services.append(rows.select(_SERVICE).unique())
    outcome = normalized_contract_result(rows)
    out.contract = ValidationOutcome(
        out.contract.passed and outcome.passed,
        out.contract.failure_count + outcome.failure_count,
        (out.contract.failures + outcome.failures)[:20],
    )


def _finish(
    out: StreamedDay, parts: dict[str, list[pl.DataFrame]], services: list[pl.DataFrame]
) -> None:
    """The day's figures from the chunks' (see the module doc)."""
    rows_sums = [c for c in SUMMED if c in parts["rows"][0].columns] if parts["rows"] else []
    out.rows_summary = _merged(parts["rows"], list(SUMMARY_KEYS), rows_sums)
    source_sums = [c for c in SUMMED if any(c in p.columns for p in parts["source"])]
    out.source_summary = _merged(
        parts["source"], ["BillingCurrency", "ChargeCategory"], source_sums
    )
    if parts["quarantine"]:  # (a whole day's, streamed_from_whole, comes with its quarantine)
        out.quarantine = _day_quarantine(parts["quarantine"], parts["elsewhere"])
    out.row_counts = row_conservation.row_conservation(
        pl.concat(parts["counts"]), pl.concat(parts["counted"]), out.quarantine
    )
    unmapped = pl.concat(parts["unmapped"])
    out.unmapped_services = (
        unmapped.group_by("provider", "service_code", "currency")
        .agg(pl.col("rows").sum(), pl.col("cost").sum())
        .sort("provider", "service_code", "currency", nulls_last=True)
        .cast(UNMAPPED_COLUMNS)  # type: ignore[arg-type]
    )
    twins = pl.concat(parts["twins"], how="vertical_relaxed")
    out.twin_mismatches = (
        twins.group_by("currency", "ChargeCategory", "money_column", maintain_order=True)
        .agg(pl.col("rows").sum(), pl.col("difference").sum().cast(twins["difference"].dtype))
        .cast(twins.schema)  # type: ignore[arg-type]
    )
    keys = pl.concat(parts["keys"])
    repeated = int(keys.is_duplicated().sum())
    if repeated and out.contract.passed and len(parts["keys"]) > 1:
        failure = {"column": "x_source_row_key", "check": "unique", "index": None}
        failure["failure_case"] = f"{repeated} rows share a row key across chunks"
        out.contract = ValidationOutcome(False, out.contract.failure_count + repeated, [failure])
    distinct = pl.concat(services).unique()
    out.consistent = distinct["ServiceName"].is_unique().all()


def _day_quarantine(normalized: list[pl.DataFrame], elsewhere: list[pl.DataFrame]) -> pl.DataFrame:
    """What normalization rejected (in row-key order), then the Azure rows counted elsewhere:
    recorded with their amounts, not dropped (the raw totals = normalized + quarantined)."""
    # x_source_file carries the row key (normalize._quarantine_rows), as each chunk sorts them
    rejected = pl.concat(normalized).sort("x_source", "x_source_file", nulls_last=True)
    counted = (
        [azure_datasets.counted_elsewhere_quarantine(pl.concat(elsewhere))] if elsewhere else []
    )
    return pl.concat([rejected, *counted]).with_columns(
        pl.lit("normalized_costs").alias("x_source")
    )


def streamed_from_whole(day: object, hold: Hold) -> StreamedDay:
    """A whole-day result (pipeline.NormalizedDay) in the streamed form, for the same checks."""
    from finops_assets.normalize.pipeline import NormalizedDay

    assert isinstance(day, NormalizedDay)  # noqa: S101 (type narrowing)
    out = StreamedDay(source_totals=day.source_totals, azure_datasets=day.azure_datasets)
    parts: dict[str, list[pl.DataFrame]] = {
        "rows": [],
        "source": [money_summary(day.source_rows, ("BillingCurrency", "ChargeCategory"))],
        "quarantine": [],
        "elsewhere": [],
        "unmapped": [day.unmapped_services],
        "twins": [],
        "keys": [],
        "counts": [day.source_counts],
        "counted": [],
    }
    services: list[pl.DataFrame] = []
    _fold_rows(out, day.rows, parts, services)
    out.held.append(hold(day.rows))
    out.quarantine = day.quarantine
    _finish(out, parts, services)
    return out
