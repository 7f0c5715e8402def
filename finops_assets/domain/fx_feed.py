"""The ECB's published euro reference rates in each of their real file formats, as one table.

The ECB publishes under https://www.ecb.europa.eu/stats/eurofxref/ (the base URL is a setting):
`eurofxref-hist.zip` (one CSV, every day since 1999-01-04, newest first, `N/A` for currencies
that did not exist, a trailing comma), `eurofxref.zip` (the latest day as CSV, dated like
`30 October 2026`), and `eurofxref-daily.xml`, `eurofxref-hist-90d.xml`, `eurofxref-hist.xml`
(gesmes envelopes of `<Cube time=...><Cube currency=... rate=.../>`). Rates stay decimal text
until they are cast to RATE: never a float.
"""

import datetime as dt
import io
import re
import zipfile
from decimal import Decimal, InvalidOperation
from xml.etree import ElementTree

import polars as pl

from finops_assets.domain.fx import EURO, RATE, RATES_SCHEMA, load_ecb_rates

_TEXT_DAY = re.compile(r"^\s*(\d{1,2} [A-Za-z]+ \d{4})\s*$")


class EcbFeedError(ValueError):
    """A feed file that is not one of the ECB's reference-rate formats; the message names it."""


class RatesNotPublishedError(LookupError):
    """A day after the newest published one: its rates may still come."""


def parse_ecb_feed(data: bytes, name: str) -> pl.DataFrame:
    """Any ECB reference-rate file (zip, CSV or XML) -> long rates as `fx.load_ecb_rates` gives."""
    if data[:4] == b"PK\x03\x04":
        return parse_ecb_feed(_single_csv_in_zip(data, name), name)
    text = data.decode("utf-8-sig", errors="strict").lstrip()
    if text.startswith("<"):
        return _parse_xml(text, name)
    if not text.startswith("Date"):
        raise EcbFeedError(f"{name}: not an ECB reference-rate file (no 'Date' header, not XML)")
    return load_ecb_rates(_iso_dates(text))


def merge_rates(seed: pl.DataFrame, feed: pl.DataFrame) -> pl.DataFrame:
    """Seed and feed as one history; where both have a day and currency, the feed's rate wins."""
    merged = pl.concat([feed, seed]).unique(["rate_date", "currency"], keep="first")
    return merged.sort("rate_date", "currency").cast(RATES_SCHEMA)  # type: ignore[arg-type]


def last_published_day(rates: pl.DataFrame) -> dt.date | None:
    """The newest day the history has rates for (None for an empty history)."""
    value = rates["rate_date"].max()
    return value if isinstance(value, dt.date) else None


def unpublished_days(days: list[dt.date], rates: pl.DataFrame) -> list[dt.date]:
    """Days after the newest published day: their rates may still come, so they wait."""
    last = last_published_day(rates)
    return [day for day in days if last is None or day > last]


def covers(rates: pl.DataFrame, days: list[dt.date]) -> bool:
    """True when every day lies within the history's first and last published days."""
    if not days:
        return True
    first, last = rates["rate_date"].min(), rates["rate_date"].max()
    if not isinstance(first, dt.date) or not isinstance(last, dt.date):
        return False
    return first <= min(days) and max(days) <= last


def _single_csv_in_zip(data: bytes, name: str) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [m for m in archive.namelist() if m.lower().endswith(".csv")]
            if len(members) != 1:
                raise EcbFeedError(f"{name}: expected one CSV in the zip, found {members}")
            return archive.read(members[0])
    except zipfile.BadZipFile as error:
        raise EcbFeedError(f"{name}: not a readable zip ({error})") from error


def _iso_dates(text: str) -> str:
    """The daily CSV's `30 October 2026` dates rewritten as 2026-10-30; ISO dates unchanged."""
    lines = text.splitlines()
    out = [lines[0]]
    for line in lines[1:]:
        first, sep, rest = line.partition(",")
        match = _TEXT_DAY.match(first)
        if match:
            first = dt.datetime.strptime(match.group(1), "%d %B %Y").date().isoformat()
        out.append(first + sep + rest)
    return "\n".join(out) + "\n"


def _parse_xml(text: str, name: str) -> pl.DataFrame:
    try:
        # expat >= 2.4 refuses entity-expansion bombs and ElementTree resolves no external
        # entities (no XXE); the text is the ECB feed from the configured https URL.
        root = ElementTree.fromstring(text)  # noqa: S314
    except ElementTree.ParseError as error:
        raise EcbFeedError(f"{name}: not well-formed XML ({error})") from error
    rows: list[tuple[dt.date, str, Decimal]] = []
    for day_cube in root.iter():
        if not day_cube.tag.endswith("Cube") or "time" not in day_cube.attrib:
            continue
        day = dt.date.fromisoformat(day_cube.attrib["time"])
        rows.append((day, EURO, Decimal(1)))
        for cube in day_cube:
            try:
                rows.append((day, cube.attrib["currency"], Decimal(cube.attrib["rate"])))
            except (KeyError, InvalidOperation) as error:
                raise EcbFeedError(
                    f"{name}: day {day}: a Cube without a currency or a decimal rate ({error!r})"
                ) from error
    if not rows:
        raise EcbFeedError(f"{name}: no <Cube time=...> element: not an ECB reference-rate file")
    frame = pl.DataFrame(
        rows,
        schema={"rate_date": pl.Date(), "currency": pl.Utf8(), "units_per_eur": RATE},
        orient="row",
    )
    return frame.sort("rate_date", "currency").cast(RATES_SCHEMA)  # type: ignore[arg-type]
