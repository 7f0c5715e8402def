"""Dates and timestamps as real exports write them, read from the rows into UTC.

Forms seen in providers' files: ISO 8601 with or without a zone (Z, +HH:MM, +HHMM, ' UTC'), with
or without seconds and fractions, a date alone; US M/D/YYYY and M/D/YY (Azure EA/MCA exports),
optionally with a 12- or 24-hour time; compact YYYYMMDD (Azure Query API). A value without a
zone is UTC. Text that fits no form, or names no real day (2/30/2024), is null: the caller
quarantines it with the value; a date is never taken from a file's time.
"""

import polars as pl

_ISO = "%Y-%m-%dT%H:%M:%S%.f%z"
_US = (
    r"^(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})"
    r"(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?$"
)


def parse_timestamp_text_expr(raw: pl.Expr) -> pl.Expr:
    """Text in any of the forms above -> Datetime(us, UTC); null when it fits none."""
    text = raw.cast(pl.Utf8).str.strip_chars()
    return pl.coalesce(_iso(text), _us(text), _compact(text))


def parse_date_text_expr(raw: pl.Expr) -> pl.Expr:
    """The UTC day of a date or timestamp text (a zoned time is converted to UTC first)."""
    return parse_timestamp_text_expr(raw).dt.date()


def _iso(text: pl.Expr) -> pl.Expr:
    iso = (
        text.str.replace(r"^(\d{4}-\d{2}-\d{2})$", r"${1}T00:00:00")
        .str.replace(r"^(\d{4}-\d{2}-\d{2})[ T]", r"${1}T")
        .str.replace(r"T(\d{2}:\d{2})($|[Zz+\- ])", r"T${1}:00${2}")
        .str.replace(r"\s*(UTC|GMT)$", "+00:00")
        .str.replace(r"[Zz]$", "+00:00")
    )
    zoned = pl.when(iso.str.contains(r"[+-]\d{2}:?\d{2}$")).then(iso).otherwise(iso + "+00:00")
    parsed = zoned.str.to_datetime(_ISO, time_unit="us", strict=False)
    return parsed.dt.convert_time_zone("UTC")


def _us(text: pl.Expr) -> pl.Expr:
    parts = text.str.extract_groups(_US)
    month, day = parts.struct.field("1"), parts.struct.field("2")
    year = parts.struct.field("3")
    year = pl.when(year.str.len_chars() == 2).then("20" + year).otherwise(year)
    hour = parts.struct.field("4").cast(pl.Int32, strict=False).fill_null(0)
    meridiem = parts.struct.field("7").str.to_uppercase()
    hour = (
        pl.when(meridiem == "AM")
        .then(hour % 12)
        .when(meridiem == "PM")
        .then(hour % 12 + 12)
        .otherwise(hour)
    )
    iso = pl.format(
        "{}-{}-{}T{}:{}:{}+00:00",
        year,
        month.str.zfill(2),
        day.str.zfill(2),
        hour.cast(pl.Utf8).str.zfill(2),
        parts.struct.field("5").fill_null("00"),
        parts.struct.field("6").fill_null("00"),
    )
    parsed = iso.str.to_datetime("%Y-%m-%dT%H:%M:%S%z", time_unit="us", strict=False)
    return parsed.dt.convert_time_zone("UTC")


def _compact(text: pl.Expr) -> pl.Expr:
    compact = pl.when(text.str.contains(r"^\d{8}$")).then(text)
    parsed = compact.str.to_datetime("%Y%m%d", time_unit="us", strict=False)
    return parsed.dt.replace_time_zone("UTC")
