"""Delta Lake tables: one day replaced atomically, reads pruned to the days asked for."""

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import deltalake
import deltalake.exceptions
import polars as pl
import pyarrow as pa
import pyarrow.fs as pafs

from finops_assets.storage.contract import ContractError, TableContract
from finops_assets.storage.delta_rules import (  # noqa: F401 (DayOutOfRangeError: re-exported)
    TABLE_PROPERTIES,
    DayOutOfRangeError,
    adds_columns_only,
    arrow_schema,
    day_predicate,
    with_added_columns,
    writer_properties,
)
from finops_assets.storage.producer import ThreadedIterator

_COMMIT_ATTEMPTS = 5


@dataclass(frozen=True)
class DeltaLake:
    """The lake root (local folder or object-store URI) and the options to reach it."""

    root_uri: str
    storage_options: Mapping[str, str] = field(default_factory=dict)

    def table_uri(self, contract: TableContract) -> str:
        return f"{self.root_uri.rstrip('/')}/{contract.name}"

    def _options(self) -> dict[str, str] | None:
        return dict(self.storage_options) or None

    def exists(self, contract: TableContract) -> bool:
        return deltalake.DeltaTable.is_deltatable(self.table_uri(contract), self._options())

    def version(self, contract: TableContract) -> int | None:
        """Current Delta version of the table, or None when it has never been written."""
        if not self.exists(contract):
            return None
        return deltalake.DeltaTable(
            self.table_uri(contract), storage_options=self._options()
        ).version()

    def write_day(
        self,
        contract: TableContract,
        frame: pl.DataFrame,
        day: dt.date,
        scope: Mapping[str, str] | None = None,
        commit_metadata: Mapping[str, str] | None = None,
    ) -> int:
        """Replace exactly `day` in the table with `frame`, atomically; returns the new version.

        The frame must match the contract and hold only rows of `day` (and of `scope`, e.g.
        {"x_source": "aws_cur"} for a table shared by several writers); anything else is refused
        before anything is written. An empty frame clears the day (within the scope).
        `commit_metadata` is stored in the Delta commit itself (see `commits`).
        """
        if contract.day_column is None:
            raise ContractError(f"table {contract.name} is not day-partitioned; use write_all")
        frame = contract.conform(frame)
        predicate = day_predicate(contract, day, scope, frame)
        return self._overwrite(contract, frame, predicate, commit_metadata)

    def write_day_stream(
        self,
        contract: TableContract,
        frames: Iterable[pl.DataFrame],
        day: dt.date,
        scope: Mapping[str, str] | None = None,
        commit_metadata: Mapping[str, str] | None = None,
    ) -> int:
        """write_day for a day too large for memory: the frames are written as they come.

        Still one atomic commit: when a frame breaks the contract, or the iterable raises
        (e.g. a check that fails once the last frame is seen), nothing is committed and that
        error is raised here.
        """
        if contract.day_column is None:
            raise ContractError(f"table {contract.name} is not day-partitioned; use write_all")
        failure: list[BaseException] = []

        def conformed() -> Iterator[pa.RecordBatch]:
            for frame in frames:
                checked = contract.conform(frame)
                day_predicate(contract, day, scope, checked)
                yield from checked.to_arrow().to_batches()

        def batches(produced: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
            try:
                yield from produced
            except BaseException as error:
                failure.append(error)
                raise

        predicate = day_predicate(contract, day, scope, contract.empty_frame())
        with ThreadedIterator(conformed()) as produced:
            reader = pa.RecordBatchReader.from_batches(arrow_schema(contract), batches(produced))
            try:
                return self._overwrite(contract, reader, predicate, commit_metadata)
            except Exception as error:
                if failure:
                    raise failure[0] from error
                raise

    def append_day(self, contract: TableContract, frame: pl.DataFrame, day: dt.date) -> int:
        """Add `frame`'s rows of `day` to the table in one commit, rewriting nothing (a ledger).

        The frame must match the contract and hold only rows of `day`; returns the new version.
        """
        if contract.day_column is None:
            raise ContractError(f"table {contract.name} is not day-partitioned")
        frame = contract.conform(frame)
        day_predicate(contract, day, None, frame)
        table = self._open(contract)
        options: dict = {"partition_by": list(contract.partition_by)}
        if table is None:
            options["configuration"] = TABLE_PROPERTIES
        elif adds_columns_only(table, contract):
            options["schema_mode"] = "merge"
        deltalake.write_deltalake(
            table if table is not None else self.table_uri(contract),
            frame.to_arrow(),
            mode="append",
            storage_options=self._options(),
            writer_properties=writer_properties(contract),
            **options,
        )
        return table.version() if table is not None else (self.version(contract) or 0)

    def _overwrite(
        self,
        contract: TableContract,
        data: Any,
        predicate: str,
        commit_metadata: Mapping[str, str] | None = None,
    ) -> int:
        """Overwrite the rows matching `predicate` with `data`; the new table version."""
        # One log load: the opened table is written through and knows its new version.
        table = self._open(contract)
        options: dict = {"predicate": predicate, "partition_by": list(contract.partition_by)}
        if table is None:
            options["configuration"] = TABLE_PROPERTIES
        elif adds_columns_only(table, contract):
            options["schema_mode"] = "merge"  # additive schema evolution, nothing else
        if commit_metadata:
            options["commit_properties"] = deltalake.CommitProperties(
                custom_metadata=dict(commit_metadata)
            )
        deltalake.write_deltalake(
            table if table is not None else self.table_uri(contract),
            data,
            mode="overwrite",
            storage_options=self._options(),
            writer_properties=writer_properties(contract),
            **options,
        )
        return table.version() if table is not None else (self.version(contract) or 0)

    def commits(self, contract: TableContract, limit: int | None = None) -> list[dict[str, Any]]:
        """The table's commits, newest first (Delta history, with each commit's own metadata)."""
        table = self._open(contract)
        return table.history(limit) if table is not None else []

    def count_day(self, contract: TableContract, day: dt.date, version: int | None = None) -> int:
        """Rows of one day, from the Parquet footers (no data read)."""
        if not self.exists(contract):
            return 0
        return self._day_dataset(contract, day, version).count_rows()

    def day_files(self, contracts: Sequence[TableContract], day: dt.date) -> str:
        """The files holding `day` now in each of `contracts` (Delta names every write's files
        anew): a day rewritten outside Dagster, by hand or by a restore, changes this text."""
        named = []
        for contract in contracts:
            names: list[str] = []
            if self.exists(contract):  # a file the log names but storage lost is marked lost
                dataset = self._day_dataset(contract, day)
                for info in dataset.filesystem.get_file_info(dataset.files):
                    lost = "" if info.type != pafs.FileType.NotFound else "(lost)"
                    names.append(info.path.rsplit("/", 1)[-1] + lost)
            named.append(f"{contract.name}:{','.join(sorted(names))}")
        return "|".join(named)

    def read_day_chunks(
        self,
        contract: TableContract,
        day: dt.date,
        columns: Sequence[str],
        chunk_rows: int,
        version: int | None = None,
    ) -> Iterator[pl.DataFrame]:
        """The day's `columns` in frames of about `chunk_rows` rows, streamed from the files."""
        if not self.exists(contract):
            return
        dataset = self._day_dataset(contract, day, version)
        schema = {c: contract.columns[c] for c in columns}
        pending: list[pa.RecordBatch] = []
        rows = 0
        for batch in dataset.to_batches(columns=list(columns), batch_size=min(chunk_rows, 1 << 17)):
            pending.append(batch)
            rows += batch.num_rows
            if rows >= chunk_rows:
                yield _frame(pending, schema)
                pending, rows = [], 0
        if pending:
            yield _frame(pending, schema)

    def _day_dataset(
        self, contract: TableContract, day: dt.date, version: int | None = None
    ) -> Any:
        if contract.day_column is None:
            raise ContractError(f"table {contract.name} is not day-partitioned")
        table = deltalake.DeltaTable(
            self.table_uri(contract), version=version, storage_options=self._options()
        )
        return table.to_pyarrow_dataset(
            file_pruning_predicate=[(contract.day_column, "=", day.isoformat())]
        )

    def _open(self, contract: TableContract) -> deltalake.DeltaTable | None:
        if not self.exists(contract):
            return None
        return deltalake.DeltaTable(self.table_uri(contract), storage_options=self._options())

    def write_all(self, contract: TableContract, frame: pl.DataFrame) -> int:
        """Replace the whole table (for small unpartitioned reference tables)."""
        frame = contract.conform(frame)
        frame.write_delta(
            self.table_uri(contract),
            mode="overwrite",
            storage_options=self._options(),
            delta_write_options={
                "partition_by": list(contract.partition_by) or None,
                "schema_mode": "overwrite",
                "writer_properties": writer_properties(contract),
            },
        )
        return self.version(contract) or 0

    def scan(self, contract: TableContract, version: int | None = None) -> pl.LazyFrame:
        """A lazy scan of the table (empty with the contract's schema when it does not exist)."""
        if not self.exists(contract):
            return contract.empty_frame().lazy()
        lazy = pl.scan_delta(
            self.table_uri(contract), version=version, storage_options=self._options()
        )
        return with_added_columns(lazy, contract)

    def read_days(
        self, contract: TableContract, days: Sequence[dt.date], version: int | None = None
    ) -> pl.DataFrame:
        """Rows of the given days, partitions pruned, in the contract's column order."""
        if contract.day_column is None:
            raise ContractError(f"table {contract.name} is not day-partitioned; use read_all")
        lazy = self.scan(contract, version).filter(pl.col(contract.day_column).is_in(list(days)))
        return contract.conform(lazy.collect())

    def read_day(
        self, contract: TableContract, day: dt.date, version: int | None = None
    ) -> pl.DataFrame:
        return self.read_days(contract, [day], version)

    def read_day_columns(
        self,
        contract: TableContract,
        day: dt.date,
        columns: Sequence[str],
        version: int | None = None,
    ) -> pl.DataFrame:
        """Only `columns` of one day (a narrow read: the other columns' pages are not read)."""
        if contract.day_column is None:
            raise ContractError(f"table {contract.name}: no day column, no day to read")
        lazy = self.scan(contract, version).filter(pl.col(contract.day_column) == day)
        return lazy.select([pl.col(c).cast(contract.columns[c]) for c in columns]).collect()

    def read_all(self, contract: TableContract, version: int | None = None) -> pl.DataFrame:
        return contract.conform(self.scan(contract, version).collect())


def _frame(batches: list[pa.RecordBatch], schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    frame = pl.from_arrow(pa.Table.from_batches(batches))
    if not isinstance(frame, pl.DataFrame):  # from_arrow of a Table is always a frame
        raise TypeError(f"expected a DataFrame from Arrow, got {type(frame).__name__}")
    return frame.cast(dict(schema))  # type: ignore[arg-type]
