"""Allocation driver files: usage measures a customer drops in landing/drivers/<name>/.

A driver file is a CSV named after its day (`YYYY-MM-DD.csv`) or its month (`YYYY-MM.csv`)
with the columns day, key, measure, quantity: per charge day, a business unit or a tag value
(`key`), what is measured (`measure`, e.g. seats) and how much (`quantity`, an exact decimal,
not negative). The folder's name is the driver's name, which a shared rule names with
`split_by: {file: <name>}`.

Every value is read as text and validated with pandera; a bad row is quarantined with file,
line, column and reason, never dropped: a day that is not a date, a day outside the file's day
or month, an empty key or measure, a quantity that is not a number or is negative, or a second
row for the same day, key and measure (naming the first one's line). A row is quarantined on
the day it names when that day is readable and in the file's period, else on the file's first
day. A file without the four columns, or named neither way, is refused whole (SourceFormatError).
"""

import datetime as dt
import io
import json
import re
from pathlib import PurePosixPath

import pandera.polars as pa
import polars as pl

from finops_assets.domain.money import MONEY, parse_money_expr
from finops_assets.domain.sources.common import QUARANTINE_COLUMNS, ParseResult, SourceFormatError

SOURCE = "allocation_drivers"
COLUMNS = ("day", "key", "measure", "quantity")
DRIVER_COLUMNS: dict[str, pl.DataType] = {
    "x_charge_date": pl.Date(),
    "x_driver": pl.Utf8(),  # the folder's name under landing/drivers/
    "key": pl.Utf8(),  # a business unit or a tag value
    "measure": pl.Utf8(),
    "quantity": MONEY,
    "x_source_file": pl.Utf8(),
    "x_source_line": pl.Int64(),
}
_DAY_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PERIOD_NAME = re.compile(r"^\d{4}-\d{2}$")


def file_period(path: str) -> tuple[dt.date, dt.date]:
    """(first, last) charge day a driver file may hold, from its name; refuses other names."""
    stem = PurePosixPath(path).name.removesuffix(".csv")
    try:
        if _DAY_NAME.match(stem):
            day = dt.date.fromisoformat(stem)
            return day, day
        if _PERIOD_NAME.match(stem):
            first = dt.date.fromisoformat(f"{stem}-01")
            after = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
            return first, after - dt.timedelta(days=1)
    except ValueError:
        pass
    raise SourceFormatError(
        f"{path}: a driver file is named YYYY-MM-DD.csv or YYYY-MM.csv (its day or month)"
    )


def _day_expr() -> pl.Expr:
    return pl.col("day").str.strip_chars().str.strptime(pl.Date, "%Y-%m-%d", strict=False)


def _schema(path: str, first: dt.date, last: dt.date) -> pa.DataFrameSchema:
    """The pandera checks of one file's text rows; each check's name is its quarantine reason."""
    period = f"{first}" if first == last else f"{first}..{last}"

    def readable_day(data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(_day_expr().is_not_null())

    def day_in_file(data: pa.PolarsData) -> pl.LazyFrame:
        day = _day_expr()
        return data.lazyframe.select(day.is_null() | day.is_between(first, last))

    def number(data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(parse_money_expr(data.key).is_not_null())

    def not_negative(data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(parse_money_expr(data.key).fill_null(0) >= 0)

    def filled(data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col(data.key).str.strip_chars().str.len_chars() > 0)

    empty = pa.Check(filled, name="is empty")
    return pa.DataFrameSchema(
        {
            "day": pa.Column(
                pl.Utf8,
                nullable=True,
                checks=[
                    pa.Check(readable_day, name="is not a date (YYYY-MM-DD)"),
                    pa.Check(day_in_file, name=f"is outside the file's period {period} ({path})"),
                ],
            ),
            "key": pa.Column(pl.Utf8, nullable=True, checks=[empty]),
            "measure": pa.Column(pl.Utf8, nullable=True, checks=[empty]),
            "quantity": pa.Column(
                pl.Utf8,
                nullable=True,
                checks=[
                    pa.Check(number, name="is not a number"),
                    pa.Check(not_negative, name="is negative"),
                ],
            ),
        },
        name="allocation driver file",
    )


def _failures(text: pl.DataFrame, schema: pa.DataFrameSchema) -> dict[int, tuple[str, str]]:
    """Row index -> (column, reason) of the first failing check, columns in file order."""
    try:
        schema.validate(text.select(COLUMNS).fill_null(""), lazy=True)
    except pa.errors.SchemaErrors as errors:
        found: dict[int, tuple[str, str]] = {}
        order = {c: i for i, c in enumerate(COLUMNS)}
        cases = errors.failure_cases.filter(pl.col("index").is_not_null())
        for case in sorted(cases.to_dicts(), key=lambda c: (c["index"], order[c["column"]])):
            value = case["failure_case"]
            reason = f"{case['column']} {value!r} {case['check']}"
            found.setdefault(int(case["index"]), (case["column"], reason))
        return found
    return {}


def _duplicates(rows: pl.DataFrame, bad: dict[int, tuple[str, str]]) -> None:
    """A second row for one day, key and measure: quarantined, naming the first row's line."""
    seen: dict[tuple, int] = {}
    for index, day, key, measure in rows.select("_i", "day", "key", "measure").rows():
        if index in bad:
            continue
        ident = (day.strip(), key.strip().lower(), measure.strip().lower())
        if ident in seen:
            reason = f"key {key!r} has a second {measure!r} quantity for {day} (first: line {seen[ident]})"
            bad[index] = ("key", reason)
        else:
            seen[ident] = index + 2


def _quarantine(
    text: pl.DataFrame, bad: dict[int, tuple[str, str]], path: str, first: dt.date, last: dt.date
) -> pl.DataFrame:
    records = []
    for index in sorted(bad):
        row = text.row(index, named=True)
        column, reason = bad[index]
        try:
            named = dt.date.fromisoformat(str(row["day"]).strip())
        except ValueError:
            named = first
        records.append(
            {
                "x_charge_date": named if first <= named <= last else first,
                "x_source": SOURCE,
                "x_source_file": path,
                "x_source_line": index + 2,
                "x_column": column,
                "x_reason": f"{path} line {index + 2}: {reason}",
                "x_raw_record": json.dumps({c: row[c] for c in COLUMNS}),
            }
        )
    return pl.DataFrame(records, schema=QUARANTINE_COLUMNS)


def parse_driver_file(data: bytes, path: str, day: dt.date) -> ParseResult:
    """The rows of charge day `day` in one driver file (DRIVER_COLUMNS) and its bad rows.

    `path` is the file's path under the landing folder (drivers/<name>/<file>.csv). The
    quarantine holds every bad row of the file (each on its day, see the module doc); the
    caller keeps the ones of the day it writes.
    """
    first, last = file_period(path)
    driver = PurePosixPath(path).parent.name
    try:
        text = pl.read_csv(io.BytesIO(data), infer_schema=False)
    except pl.exceptions.PolarsError as error:
        raise SourceFormatError(f"{path}: not a CSV file ({error})") from None
    missing = [c for c in COLUMNS if c not in text.columns]
    if missing:
        raise SourceFormatError(f"{path}: driver file lacks column(s) {missing}; needs {COLUMNS}")
    text = text.select(COLUMNS).with_row_index("_i").fill_null("")
    bad = _failures(text.drop("_i"), _schema(path, first, last))
    _duplicates(text, bad)
    good = text.filter(~pl.col("_i").is_in(list(bad)))
    rows = good.select(
        _day_expr().alias("x_charge_date"),
        pl.lit(driver).alias("x_driver"),
        pl.col("key").str.strip_chars(),
        pl.col("measure").str.strip_chars(),
        parse_money_expr("quantity").alias("quantity"),
        pl.lit(path).alias("x_source_file"),
        (pl.col("_i").cast(pl.Int64) + 2).alias("x_source_line"),
    ).filter(pl.col("x_charge_date") == day)
    return ParseResult(rows.cast(DRIVER_COLUMNS), _quarantine(text, bad, path, first, last))  # type: ignore[arg-type]
