"""allocation_drivers_raw: the customer's driver files (landing/drivers/<name>/), one day each.

A shared rule with `split_by: {file: <name>}` splits its pool by these quantities
(domain.split_by); allocated_costs declares this asset as a dependency, so lineage shows it.
"""

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import polars as pl
from dagster import AssetExecutionContext

from finops_assets.concurrency import writer_pool
from finops_assets.day_writer import DayEvent, DayWriter
from finops_assets.domain.driver_files import (
    DRIVER_COLUMNS,
    SOURCE,
    file_period,
    parse_driver_file,
)
from finops_assets.domain.sources.common import SourceFormatError, empty_quarantine
from finops_assets.partitions import SINGLE_RUN, daily_partitions
from finops_assets.resources.lake import LakeResource, LandingResource
from finops_assets.storage import tables
from finops_assets.storage.validation import contract_schema, validate_frame

DRIVERS_FOLDER = "drivers"


def driver_files(landing: Path, day: dt.date) -> list[Path]:
    """The driver files that may hold `day`: drivers/<name>/<day>.csv and <month>.csv."""
    names = (f"{day.isoformat()}.csv", f"{day.isoformat()[:7]}.csv")
    folder = landing / DRIVERS_FOLDER
    if not folder.is_dir():
        return []
    return sorted(
        path
        for driver in folder.iterdir()
        if driver.is_dir() and not driver.name.startswith(".")
        for path in (driver / name for name in names)
        if path.is_file()
    )


def misnamed_files(landing: Path) -> list[str]:
    """Files under drivers/<name>/ named neither YYYY-MM-DD.csv nor YYYY-MM.csv: never read,
    so every materialization names them (metadata `misnamed_files`) instead of dropping them."""
    found = []
    for path in sorted((landing / DRIVERS_FOLDER).glob("*/*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        relative = path.relative_to(landing).as_posix()
        try:
            file_period(relative)
        except SourceFormatError:
            found.append(relative)
    return found


@dg.asset(
    pool=writer_pool("allocation_drivers_raw"),
    group_name="ingest",
    partitions_def=daily_partitions,
    backfill_policy=SINGLE_RUN,
    kinds={"delta", "polars"},
    check_specs=[
        dg.AssetCheckSpec(
            "check_allocation_drivers_contract",
            asset="allocation_drivers_raw",
            blocking=True,
            partitions_def=daily_partitions,
            description="Typed driver rows naming driver, key, measure, file and line, with a "
            "quantity on every row.",
        )
    ],
)
def allocation_drivers_raw(
    context: AssetExecutionContext, lake: LakeResource, landing: LandingResource
) -> Iterator[DayEvent]:
    """Usage quantities per day, key (business unit or tag value) and measure, from the driver
    files the customer drops in landing/drivers/<name>/<YYYY-MM-DD or YYYY-MM>.csv.

    Every file is archived byte for byte first. Bad rows go to the quarantine table with file,
    line, column and reason (domain.driver_files); a file that is not a driver file fails the
    day, naming it.
    """
    delta, archive, folder = lake.delta(), lake.archive(), landing.folder()
    writer, misnamed = DayWriter(context), misnamed_files(folder)
    if misnamed:
        context.log.warning(
            f"driver files named neither YYYY-MM-DD.csv nor YYYY-MM.csv: {misnamed}"
        )
    schema = contract_schema(
        tables.ALLOCATION_DRIVERS_RAW,
        required=("x_driver", "key", "measure", "quantity", "x_source_file", "x_source_line"),
    )

    def one_day(day: dt.date) -> None:
        rows, quarantined = [], []
        for path in driver_files(folder, day):
            relative = path.relative_to(folder).as_posix()
            data = path.read_bytes()
            archive.store(SOURCE, day, relative, data)
            parsed = parse_driver_file(data, relative, day)
            rows.append(parsed.rows)
            quarantined.append(parsed.quarantine.filter(pl.col("x_charge_date") == day))
        frame = pl.concat(rows) if rows else pl.DataFrame(schema=DRIVER_COLUMNS)
        quarantine = pl.concat(quarantined) if quarantined else empty_quarantine()

        def write() -> None:
            delta.write_day(tables.ALLOCATION_DRIVERS_RAW, frame, day)
            delta.write_day(tables.QUARANTINE, quarantine, day, scope={"x_source": SOURCE})

        writer.commit(
            day,
            {"check_allocation_drivers_contract": validate_frame(schema, frame)},
            write,
            content=[frame, quarantine],
            metadata={
                "rows": frame.height,
                "files": len(rows),
                "drivers": ", ".join(sorted(set(frame["x_driver"].to_list()))) or "-",
                "quarantined_rows": quarantine.height,
                "misnamed_files": ", ".join(misnamed) or "-",
            },
        )

    yield from writer.run(one_day)
