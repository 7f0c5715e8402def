"""One day of allocated_costs: read, allocate, check, then write, or nothing when a check fails.

A day of up to STREAM_ABOVE_ROWS normalized rows is allocated in memory; the write of one
day (Delta/Parquet encoding, in Rust, off the GIL) overlaps the allocation of the next. A
larger day streams: its rows are read in chunks, allocated with allocate_chunks (pooled rows
spilled to disk), checked chunk by chunk and written as they come in one atomic commit, which
the checks veto when they fail once the last chunk is seen. Only the columns allocation reads
are read from normalized_costs.
"""

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import polars as pl

from finops_assets.allocate.checks import (
    allocated_contract_result,
    conservation_outcome,
    conservation_result,
)
from finops_assets.allocate.versions import allocation_commit_metadata
from finops_assets.day_writer import DayWriteError
from finops_assets.domain.allocate import INPUT_COLUMNS, allocate_chunks, allocate_costs
from finops_assets.domain.allocate_conservation import (
    add_money_sums,
    coverage_sums,
    money_sums,
    sums_violations,
)
from finops_assets.domain.audit_inputs import InputDigest
from finops_assets.domain.rules import AllocationRules
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake
from finops_assets.storage.fingerprint import Fingerprint, frames_fingerprint
from finops_assets.storage.spill import SpillFolder

READ_COLUMNS = (*INPUT_COLUMNS, "x_fx_rate", "x_fx_rate_date")  # + the rate normalize used
STREAM_ABOVE_ROWS = 1_500_000  # a day with more normalized rows than this streams
ALLOCATION_CHUNK_ROWS = 500_000  # in chunks of about this many rows


@dataclass
class DayResult:
    """What allocating one day gave: rows, check failures, coverage, and the version written."""

    day: dt.date
    source_rows: int = 0
    allocated_rows: int = 0
    contract_failures: list[dict] = field(default_factory=list)
    conservation_failures: list[dict] = field(default_factory=list)
    coverage: list[pl.DataFrame] = field(default_factory=list)  # coverage_sums per chunk
    delta_version: int | None = None
    fingerprint: str | None = None  # content hash of the written day (its data version)
    inputs: InputDigest = field(default_factory=InputDigest)  # what was read, for the ledger
    normalized_version: int | None = None  # the normalized_costs version read
    rule_version: str = ""  # the data version of the rules the day was allocated with

    @property
    def passed(self) -> bool:
        return not (self.contract_failures or self.conservation_failures)


class ChecksFailedError(Exception):
    """Raised inside a streamed write so that the day is not committed."""


WriteDay = Callable[[Mapping[str, str]], int]  # commit metadata -> new table version


class AllocatedDayWriter:
    """Writes allocated days one at a time, in order, in a background thread.

    submit() returns as soon as the previous day's write is done, so day N is written while
    day N+1 is read and allocated; a failed write raises DayWriteError (naming its day) at the
    next submit or at finish(). Each write's Delta commit itself records the day, run, rule
    version and inputs read (allocate.versions), from which the ledger's per-day record is
    derived: the record commits with the day, never apart from it.
    """

    def __init__(self, delta: DeltaLake, run_id: str, rule_version: str = "") -> None:
        self._delta, self._run_id, self._rule_version = delta, run_id, rule_version
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="allocated-writer")
        self._pending: Future | None = None

    def submit(self, result: DayResult, write: WriteDay) -> None:
        self._wait()
        self._pending = self._pool.submit(self._write, result, write)

    def write_now(self, result: DayResult, write: WriteDay) -> None:
        self._wait()
        self._write(result, write)

    def finish(self) -> None:
        try:
            self._wait()
        finally:
            self._pool.shutdown(wait=True)

    def _wait(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def _write(self, result: DayResult, write: WriteDay) -> None:
        """Replace the day; its commit names the day, run, rule version and inputs read."""
        metadata = allocation_commit_metadata(
            result.day,
            self._run_id,
            result.rule_version or self._rule_version,
            result.inputs.version().text(),
            result.normalized_version,
        )
        try:
            result.delta_version = write(metadata)
        except ChecksFailedError:
            raise
        except Exception as error:
            raise DayWriteError(result.day, error) from error


def _as_normalized(rows: pl.DataFrame) -> pl.DataFrame:
    return rows


def allocate_day(
    delta: DeltaLake,
    day: dt.date,
    rules: AllocationRules,
    writer: AllocatedDayWriter,
    chunk_rows: int | None = None,
    stream_above_rows: int | None = None,
    convert: Callable[[pl.DataFrame], pl.DataFrame] = _as_normalized,
) -> DayResult:
    """Allocate one day and hand it to `writer` when its checks pass (see the module doc).

    `convert` applies the rule version's FX policy to the rows read (allocate.fx_policy); the
    conservation check compares the allocation with the converted rows.
    """
    chunk_rows = chunk_rows or ALLOCATION_CHUNK_ROWS
    stream_above_rows = stream_above_rows or STREAM_ABOVE_ROWS
    usage = delta.read_day(tables.K8S_USAGE_RAW, day)
    drivers = driver_rows_for(delta, day, rules)
    version = delta.version(tables.NORMALIZED_COSTS)  # read at one version, recorded
    if delta.count_day(tables.NORMALIZED_COSTS, day, version) > stream_above_rows:
        return _allocate_streamed(
            delta, day, rules, usage, writer, chunk_rows, version, convert, drivers
        )
    read = delta.read_day_columns(tables.NORMALIZED_COSTS, day, READ_COLUMNS, version)
    normalized = convert(read)
    allocated = allocate_costs(normalized, rules, usage, driver_rows=drivers)
    result = DayResult(day, normalized.height, allocated.height, normalized_version=version)
    result.rule_version = rules.data_version
    result.inputs.add_normalized(read)  # as read, before the FX policy
    del read
    result.inputs.add_usage(usage)
    result.inputs.add_usage(drivers)  # driver files are usage too (a changed one: restatement)
    result.contract_failures = allocated_contract_result(allocated).failures
    result.conservation_failures = conservation_result(normalized, allocated).failures
    result.coverage.append(coverage_sums(allocated))
    del normalized
    if result.passed:
        result.fingerprint = _day_version([allocated], rules)
        writer.submit(
            result, lambda meta: delta.write_day(tables.ALLOCATED_COSTS, allocated, day, None, meta)
        )
    return result


def _allocate_streamed(
    delta: DeltaLake,
    day: dt.date,
    rules: AllocationRules,
    usage: pl.DataFrame,
    writer: AllocatedDayWriter,
    chunk_rows: int,
    version: int | None,
    convert: Callable[[pl.DataFrame], pl.DataFrame],
    drivers: pl.DataFrame | None = None,
) -> DayResult:
    result = DayResult(day, normalized_version=version, rule_version=rules.data_version)
    result.inputs.add_usage(usage)
    result.inputs.add_usage(drivers)
    # The inputs' digest goes into the day's commit, which is made before the stream is read:
    # a first pass over the day's chunks computes it (days above STREAM_ABOVE_ROWS only).
    for chunk in delta.read_day_chunks(
        tables.NORMALIZED_COSTS, day, READ_COLUMNS, chunk_rows, version
    ):
        result.inputs.add_normalized(chunk)
    parts: list[Fingerprint] = [Fingerprint()]
    sums_in: list[pl.DataFrame] = []
    sums_out: list[pl.DataFrame] = []

    def read() -> Iterator[pl.DataFrame]:
        chunks = delta.read_day_chunks(
            tables.NORMALIZED_COSTS, day, READ_COLUMNS, chunk_rows, version
        )
        for chunk in map(convert, chunks):
            result.source_rows += chunk.height
            sums_in.append(money_sums(chunk))
            yield chunk

    def checked() -> Iterator[pl.DataFrame]:
        with SpillFolder() as spill:
            for part in allocate_chunks(read(), rules, usage, hold=spill.hold, driver_rows=drivers):
                result.allocated_rows += part.height
                result.contract_failures += allocated_contract_result(part).failures
                sums_out.append(money_sums(part))
                result.coverage.append(coverage_sums(part))
                parts[0].add(part)
                yield part
        if sums_in or sums_out:
            both = [add_money_sums(s) for s in (sums_in, sums_out)]
            result.conservation_failures = conservation_outcome(sums_violations(*both)).failures
        if not result.passed:
            raise ChecksFailedError(f"allocated_costs {day}: checks failed, day not written")

    with contextlib.suppress(ChecksFailedError):  # the failures are in the result
        writer.write_now(
            result,
            lambda meta: delta.write_day_stream(tables.ALLOCATED_COSTS, checked(), day, None, meta),
        )
    if result.passed:
        result.fingerprint = _day_version(parts, rules)
    return result


def driver_rows_for(delta: DeltaLake, day: dt.date, rules: AllocationRules) -> pl.DataFrame | None:
    """The day's allocation_drivers_raw rows when a rule splits a pool by a driver file."""
    if not any(r.split_by is not None and r.split_by.kind == "file" for r in rules.shared):
        return None
    return delta.read_day(tables.ALLOCATION_DRIVERS_RAW, day)


def _day_version(content: list[pl.DataFrame] | list[Fingerprint], rules: AllocationRules) -> str:
    """The day's data version: its allocated rows (in any order or chunking) and the rules."""
    if content and isinstance(content[0], Fingerprint):
        fingerprint = content[0]
    else:
        fingerprint = Fingerprint()
        for frame in content:
            fingerprint.add(frame)  # type: ignore[arg-type]
    return frames_fingerprint([], f"{rules.data_version}|{fingerprint.hexdigest()}")
