"""FX from the ECB's published feed: real file formats, served over HTTP on 127.0.0.1.

The server is a plain http.server serving the ECB's own formats (the history zip built from the
real eurofxref-hist.csv in the public data, the daily CSV, the XML envelope); the client is the
product's own (urllib), unmocked.
"""

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import dagster as dg
import polars as pl
import pytest

from finops_assets.domain import fx_feed
from finops_assets.resources.lake import LakeResource
from finops_assets.resources.reference import FxFeedError, FxRatesResource
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake
from finops_assets_tests.servers import ecb as servers_ecb
from finops_assets_tests.servers.ecb import Feed

NEW_DAY = dt.date(2026, 11, 2)  # after the shipped seed (which ends on 2026-10-30)
XML = """<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01"
 xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
<gesmes:subject>Reference rates</gesmes:subject>
<gesmes:Sender><gesmes:name>European Central Bank</gesmes:name></gesmes:Sender>
<Cube><Cube time='2026-11-02'><Cube currency='USD' rate='1.1234'/>
<Cube currency='JPY' rate='176.01'/></Cube></Cube>
</gesmes:Envelope>
"""


@pytest.fixture
def ecb_site() -> Iterator[tuple[str, Feed]]:
    with servers_ecb.ecb_site() as site:
        yield site


_zip = servers_ecb.history_zip


def _history_with_new_day(real_csv: str, usd: str) -> str:
    """The real history with one more (newest) day on top, in the same format."""
    header, latest, rest = real_csv.split("\n", 2)
    newer = latest.replace("2026-10-30", NEW_DAY.isoformat()).replace(",1.1172,", f",{usd},", 1)
    return "\n".join([header, newer, latest, rest])


@pytest.fixture
def real_history(shared_data) -> str:
    return (shared_data / "reference-fx-currency" / "ecb-eurofxref-hist.csv").read_text()


def test_every_real_format_parses_to_the_same_rate(shared_data, real_history):
    daily = (shared_data / "reference-fx-currency" / "ecb-eurofxref-daily.csv").read_bytes()
    from_daily = fx_feed.parse_ecb_feed(daily, "eurofxref.csv")
    from_zip = fx_feed.parse_ecb_feed(_zip(real_history), "eurofxref-hist.zip")
    day = dt.date(2026, 10, 30)

    def usd(rates: pl.DataFrame, on: dt.date) -> Decimal:
        return rates.filter((pl.col("rate_date") == on) & (pl.col("currency") == "USD")).item(
            0, "units_per_eur"
        )

    assert usd(from_daily, day) == usd(from_zip, day) == Decimal("1.1172")
    assert from_zip["rate_date"].min() == dt.date(1999, 1, 4)
    from_xml = fx_feed.parse_ecb_feed(XML.encode(), "eurofxref-daily.xml")
    assert usd(from_xml, NEW_DAY) == Decimal("1.1234")
    assert set(from_xml["currency"]) == {"EUR", "USD", "JPY"}


def test_not_a_feed_file_is_refused_naming_it():
    with pytest.raises(fx_feed.EcbFeedError, match="rates.html: .*not an ECB"):
        fx_feed.parse_ecb_feed(b"<html><body>moved</body></html>", "rates.html")


def test_days_before_the_seed_come_from_the_feed(ecb_site, real_history):
    base, feed = ecb_site
    feed.files["/stats/eurofxref/eurofxref-hist.zip"] = _zip(real_history)
    resource = FxRatesResource(base_url=base)
    history, live = resource.history([dt.date(1999, 1, 5)])
    assert live and feed.requests == ["/stats/eurofxref/eurofxref-hist.zip"]
    jan5 = history.filter(
        (pl.col("rate_date") == dt.date(1999, 1, 5)) & (pl.col("currency") == "USD")
    )
    assert jan5.item(0, "units_per_eur") == Decimal("1.1790")
    # Days the shipped seed covers need no request at all (the demo runs offline).
    resource.history([dt.date(2026, 10, 1)])
    assert len(feed.requests) == 1


def test_a_wrong_base_url_fails_at_once_naming_the_url(ecb_site):
    base, _ = ecb_site
    with pytest.raises(FxFeedError, match="eurofxref-hist.zip: HTTP 404") as raised:
        FxRatesResource(base_url=base).history([NEW_DAY])
    assert not raised.value.transient


def _materialize_fx_rates(tmp_path, monkeypatch, resource: FxRatesResource):
    from finops_assets.normalize.assets import fx_rates

    monkeypatch.setenv("FINOPS_HOME", str(tmp_path / "home"))
    with dg.instance_for_test() as instance:
        return dg.materialize(
            [fx_rates],
            partition_key=NEW_DAY.isoformat(),
            resources={"lake": LakeResource(), "rates": resource},
            instance=instance,
            raise_on_error=False,
        )


@pytest.mark.slow
def test_a_day_not_published_yet_waits_then_uses_the_published_rate(
    ecb_site, real_history, tmp_path, monkeypatch
):
    base, feed = ecb_site
    path = "/stats/eurofxref/eurofxref-hist.zip"
    feed.files[path] = _zip(real_history)  # newest day 2026-10-30: NEW_DAY not published yet
    feed.after_first_request = {path: _zip(_history_with_new_day(real_history, "1.1500"))}
    resource = FxRatesResource(base_url=base, wait_seconds=0, wait_retries=2)
    result = _materialize_fx_rates(tmp_path, monkeypatch, resource)
    events = [e.event_type for e in result.all_events]
    assert dg.DagsterEventType.STEP_UP_FOR_RETRY in events
    assert result.success
    assert len(feed.requests) == 2
    lake = DeltaLake(str(tmp_path / "home" / "lake"))
    rates = lake.read_day(tables.FX_RATES, NEW_DAY)
    usd = rates.filter(pl.col("currency") == "USD")
    assert usd.item(0, "units_per_eur") == Decimal("1.15")
    assert usd.item(0, "x_fx_rate_date") == NEW_DAY


@pytest.mark.slow
def test_a_day_never_published_fails_after_the_tries_naming_it(
    ecb_site, real_history, tmp_path, monkeypatch
):
    base, feed = ecb_site
    feed.files["/stats/eurofxref/eurofxref-hist.zip"] = _zip(real_history)
    resource = FxRatesResource(base_url=base, wait_seconds=0, wait_retries=1)
    result = _materialize_fx_rates(tmp_path, monkeypatch, resource)
    assert not result.success
    assert len(feed.requests) == 2  # the first try and one retry
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE)
    text = str(failure.event_specific_data.error)
    assert "2026-11-02 are not published yet (newest: 2026-10-30)" in text
