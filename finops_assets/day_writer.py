"""The checked day-writer every day-partitioned, Delta-backed asset uses.

For each day of a run (one day, or a range in a single-run backfill) an asset computes the
day's frames and its check outcomes, then hands them to `DayWriter.commit`: the day is written
only when every blocking check passed. After the last day the writer reports to Dagster, per
day:

- each check's result carries its partition (an `AssetCheckEvaluation` per day and check) and
  the day's materialization it judged, so the check's partition view shows it per day;
- a written day is a materialization of that partition, with that day's own metadata (rows,
  money per currency and business unit in minor units) and a content-addressed data version
  (the hash of what was written plus the logic version), so identical input gives an identical
  version and nothing downstream turns stale;
- when any day failed a blocking check (or raised), the written days are recorded one by one
  and the step then fails: the failed days are FAILED partitions in Dagster, never
  materialized, nothing downstream runs in this run, and a backfill or sensor retries them.

How Dagster 1.13 records this was measured (finops_assets_tests/test_day_writer.py): a step
that yields per-partition `AssetMaterialization`s and then raises leaves exactly those
partitions materialized and the others failed; a successful ranged run records one
materialization per partition from its output, sharing one data version, so the per-day data
versions follow as per-day materializations (two events per day in a ranged run; one in a
single-day run).
"""

import datetime as dt
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from typing import Any

import polars as pl
from dagster import AssetExecutionContext

from finops_assets import day_memo
from finops_assets.check_failures import (  # noqa: F401 (CheckOutcome, Failures: re-exported)
    CheckInput,
    CheckOutcome,
    Failures,
    failure_list,
    json_safe,
)
from finops_assets.dagster_private import DATA_VERSION_TAG
from finops_assets.day_report import (  # noqa: F401 (DayEvent, DaysFailedError: re-exported)
    SHOWN_FAILURES,
    DayEvent,
    DayRecord,
    DayReport,
    DaysFailedError,
)
from finops_assets.partitions import partition_days
from finops_assets.storage.fingerprint import frames_fingerprint, lineage_fingerprint


class DayWriteError(Exception):
    """A day's write failed after the day was handed over (a background write); names the day."""

    def __init__(self, day: dt.date, error: BaseException) -> None:
        super().__init__(f"writing {day} failed: {error}")
        self.day = day


class DayWriter:
    """Validate, write and record each day of a day-partitioned asset (see the module doc)."""

    def __init__(
        self,
        context: AssetExecutionContext,
        logic_version: str = "",
        memo: bool = False,
        memo_extra: str = "",
        memo_when: Callable[[dt.date], bool] | None = None,
        memo_stored: Callable[[dt.date], str] | None = None,
        memo_output: Callable[[dt.date], str] | None = None,
        memo_days: Callable[[dt.date], Sequence[dt.date]] | None = None,
        memo_metadata: Mapping[str, Any] | None = None,
        memo_parents: Collection[str] | None = None,
        memo_own_days: Callable[[dt.date], Sequence[dt.date]] | None = None,
        memo_refresh: Callable[[dt.date], Mapping[str, Any]] | None = None,
    ) -> None:
        """`memo`: a day whose inputs are those of its last materialization is recorded again,
        not computed (day_memo.py); only for a day that depends on that day's inputs alone,
        so `memo_when(day)` False: that day reads more (it is always computed). `memo_stored(day)`
        names the stored state of the tables the day reads (DeltaLake.day_files): a day written
        there outside Dagster, which records no new data version, is computed again too;
        `memo_output(day)` names the stored state of the day's own output, recorded once the
        day is written: a day whose output was rewritten or lost since is computed again.
        `memo_days(day)` names the earlier days of its upstream assets the day reads (a month
        to date, a lookback window): their data versions are inputs of the day too.
        `memo_metadata`: what a reused day records instead of its last metadata (a count of
        what the run did, say: a reused day did nothing). `memo_parents`: the upstream assets
        the day's rows are computed from, when not all are (None: all). `memo_own_days(day)`:
        the asset's own earlier days the day reads (their versions are inputs: this run's
        where it wrote them). `memo_refresh(day)`: metadata measured again for a reused day
        (what is not in its rows, e.g. a latency that depends on when upstream was recorded)."""
        self._context = context
        self._logic = logic_version
        self._memo = (logic_version + "\0" + memo_extra) if memo else None
        self._memo_when = memo_when
        self._memo_stored = memo_stored
        self._memo_output = memo_output
        self._memo_days = memo_days
        self._memo_metadata = dict(memo_metadata or {})
        self._memo_parents = memo_parents
        self._memo_own_days = memo_own_days
        self._memo_refresh = memo_refresh
        self._inputs: dict[dt.date, str] = {}
        self._lookup: day_memo.Lookup | None = None
        self._specs = {
            spec.name: spec
            for spec in context.assets_def.check_specs
            if spec.asset_key == context.asset_key
        }
        self.days = partition_days(context)
        self.records: list[DayRecord] = []

    def commit(
        self,
        day: dt.date,
        checks: Mapping[str, CheckInput],
        write: Callable[[], object],
        content: Sequence[pl.DataFrame] | str,
        metadata: Mapping[str, Any] | None = None,
        lineage: str | None = None,
    ) -> bool:
        """Write `day` when every blocking check passed; record the outcome either way.

        `checks` must name every check of the asset (failures, empty when passed): a check
        that is not evaluated cannot fail, so a missing one is a programming error. `content`
        is what was written (the frames, hashed into the data version) or an explicit version.
        With memo on, a day whose rows carry lineage columns and whose `content` is an explicit
        version must hand its `lineage` version too (day_memo.py), or the memoized days below
        it would keep naming rows of a delivery it no longer holds.
        """
        failures = {name: failure_list(found) for name, found in checks.items()}
        if set(failures) != set(self._specs):
            raise ValueError(
                f"{self._context.asset_key.to_user_string()} {day}: checks evaluated "
                f"{sorted(failures)} differ from the asset's checks {sorted(self._specs)}"
            )
        extra = {n: c.metadata for n, c in checks.items() if isinstance(c, CheckOutcome)}
        record = DayRecord(day, failures, dict(metadata or {}), check_metadata=extra)
        self.records.append(record)
        if any(found for name, found in failures.items() if self._specs[name].blocking):
            record.metadata["written"] = False
            return False
        write()
        record.data_version = (
            content if isinstance(content, str) else frames_fingerprint(content, self._logic)
        )
        if self._memo is not None:  # what the day was computed from, for the next run
            warnings = {n: json_safe(f[:SHOWN_FAILURES]) for n, f in failures.items() if f}
            if lineage is None and not isinstance(content, str):
                lineage = lineage_fingerprint(content)
            day_memo.note_computed(record.metadata, self._inputs.get(day), warnings, lineage)
        return True

    def _reused(self, day: dt.date) -> bool:
        """With memo on: True when `day`'s inputs are unchanged and it was recorded again."""
        if self._memo is None or day_memo.recompute_requested(self._context):
            return False
        if self._memo_when is not None and not self._memo_when(day):
            return False
        if self._lookup is None:  # one lookup of the run's days (and the days they read)
            days = {d.isoformat() for d in self.days}
            days.update(e.isoformat() for d in self.days for e in self._earlier(d))
            days.update(e.isoformat() for d in self.days for e in self._own_days(d))
            self._lookup = day_memo.Lookup(self._context.instance, sorted(days))
        key = day.isoformat()
        stored = self._memo_stored(day) if self._memo_stored is not None else ""
        logic = f"{self._memo}\0{stored}"
        earlier = [d.isoformat() for d in self._earlier(day)]
        own = [self._own_version(d, self._lookup) for d in self._own_days(day)]
        inputs = day_memo.inputs_version(
            self._context, key, logic, self._lookup, earlier, self._memo_parents, own
        )
        if inputs is None:
            return False
        self._inputs[day] = inputs
        found = day_memo.reusable(self._context, key, inputs, self._lookup)
        if found is None or not self._output_intact(day, found.metadata):
            return False
        failures = {
            name: [] if spec.blocking else list(found.warnings.get(name, []))
            for name, spec in self._specs.items()
        }
        refreshed = self._memo_refresh(day) if self._memo_refresh is not None else {}
        metadata = {**found.metadata, **self._memo_metadata, **refreshed}
        metadata[day_memo.RECOMPUTED_KEY] = False
        self.records.append(DayRecord(day, failures, metadata, found.data_version))
        return True

    def _earlier(self, day: dt.date) -> list[dt.date]:
        """The other days of its upstream assets `day` reads (memo_days), oldest first."""
        if self._memo_days is None:
            return []
        return sorted(set(self._memo_days(day)) - {day})

    def _own_days(self, day: dt.date) -> list[dt.date]:
        """The asset's own earlier days `day` reads (memo_own_days), oldest first."""
        if self._memo_own_days is None:
            return []
        return sorted(set(self._memo_own_days(day)) - {day})

    def _own_version(self, day: dt.date, lookup: day_memo.Lookup) -> str:
        """The version of the asset's own `day` as the day reading it finds it: this run's
        record of it (a day computed or reused earlier in the run), else its latest
        materialization; "-" when there is none or it failed (then nothing matches)."""
        records = [r for r in self.records if r.day == day]
        if records:
            return records[-1].data_version or "-"
        event = lookup.latest(self._context.asset_key, day.isoformat())
        if event is None or event.partition != day.isoformat():
            return "-"
        return (event.tags or {}).get(DATA_VERSION_TAG) or "-"

    def _output_intact(self, day: dt.date, recorded: Mapping[str, Any]) -> bool:
        """True when the day's own output is stored as it was when last written."""
        if self._memo_output is None:
            return True
        stored = getattr(recorded.get(day_memo.OUTPUT_KEY), "value", None)
        return stored == self._memo_output(day)

    def _note_outputs(self) -> None:
        """Record each computed day's stored output (after every write, background ones too)."""
        if self._memo_output is None:
            return
        for record in self.records:
            if record.written and record.metadata.get(day_memo.RECOMPUTED_KEY) is True:
                record.metadata[day_memo.OUTPUT_KEY] = self._memo_output(record.day)

    def run(
        self,
        one_day: Callable[[dt.date], object],
        after: Callable[[], Mapping[str, Any]] | None = None,
    ) -> Iterator[DayEvent]:
        """Call `one_day` (which commits the day) for each day, then report to Dagster.

        An exception stops the run at that day: the days already written are still recorded,
        then the error is raised, so no written day goes unrecorded. `after` runs once the days
        are done, even after an error (e.g. waiting for a background write, delivering the
        events the written days raised); the metadata it returns is added to every day, and an
        error it raises (naming a day, or not) fails the step after recording the days.
        """
        error: BaseException | None = None
        for day in self.days:
            try:
                if self._reused(day):
                    continue
                one_day(day)
            except Exception as raised:  # reported below, then raised again
                error = raised
                self._fail_day(getattr(raised, "day", day), raised)
                break
            if not self.records or self.records[-1].day != day:
                raise ValueError(f"{self._context.asset_key.to_user_string()} {day}: not committed")
        if after is not None:  # also after an error: it may finish what written days started
            try:
                extra = after()
            except Exception as raised:  # the written days stay recorded; the step fails
                if hasattr(raised, "day"):
                    self._fail_day(raised.day, raised)
                error = error or raised
            else:
                for record in self.records:
                    record.metadata.update(extra)
        if error is None:
            self._note_outputs()
        yield from self.report(error)

    def fail_written_day(self, day: dt.date, error: BaseException) -> None:
        """A write handed over for `day` failed later (background write): the day is failed."""
        self._fail_day(day, error)

    def report(self, error: BaseException | None = None) -> Iterator[DayEvent]:
        """The Dagster events of the run's days; raises when a day failed (see module doc)."""
        yield from DayReport(self._context, self._specs, self.days, self.records).events(error)

    def _fail_day(self, day: dt.date, error: BaseException) -> None:
        found = [r for r in self.records if r.day == day]
        record = found[0] if found else DayRecord(day, {name: [] for name in self._specs})
        if not found:
            self.records.append(record)
        record.data_version = None
        record.metadata["written"] = False
        record.metadata["error"] = f"{type(error).__name__}: {error}"
