"""One bad file of a source-day is quarantined as a file; the day's other files still ingest.

Real archive in a tmp folder, real parsers; nothing mocked.
"""

import datetime as dt
import io
import json
from decimal import Decimal

import polars as pl
import pytest

from finops_assets.domain.quarantine import QuarantineLimits
from finops_assets.domain.sources import common, focus_export
from finops_assets.ingest.checks import quarantine_threshold_result
from finops_assets.ingest.pipeline import ingest_payloads
from finops_assets.resources.payloads import Payload
from finops_assets.storage.archive import RawArchive

DAY = dt.date(2024, 1, 5)
FETCHED = dt.datetime(2024, 1, 6, tzinfo=dt.UTC)
HEADER = (
    "ChargePeriodStart,ChargePeriodEnd,BillingPeriodStart,BillingPeriodEnd,BilledCost,"
    "EffectiveCost,BillingCurrency,ProviderName,ChargeCategory"
)


def _row(day: str, billed: str, effective: str | None = None, currency: str = "USD") -> str:
    effective = billed if effective is None else effective
    return (
        f"{day}T00:00:00Z,{day}T01:00:00Z,2024-01-01,2024-02-01,{billed},{effective},"
        f"{currency},AWS,Usage"
    )


def _csv(*rows: str, header: str = HEADER) -> bytes:
    return "\n".join([header, *rows]).encode() + b"\n"


def _payload(name: str, data: bytes) -> Payload:
    return Payload(name=name, data=data, fetched_at=FETCHED)


def _ingest(tmp_path, *payloads: Payload):
    return ingest_payloads(focus_export, list(payloads), DAY, RawArchive(str(tmp_path)))


def _wrong_schema_parquet() -> bytes:
    buffer = io.BytesIO()
    pl.DataFrame({"foo": [1, 2], "bar": ["a", "b"]}).write_parquet(buffer)
    return buffer.getvalue()


BAD_FILES = {
    "empty.csv": b"",
    "latin1.csv": _csv(_row("2024-01-05", "3.00")).replace(b"AWS", "Café".encode("latin-1")),
    "other.parquet": _wrong_schema_parquet(),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_a_bad_file_is_one_quarantine_row_and_the_good_file_still_ingests(tmp_path, name):
    data = BAD_FILES[name]
    good = _payload("good.csv", _csv(_row("2024-01-05", "10.25"), _row("2024-01-05", "1.75")))
    day = _ingest(tmp_path, good, _payload(name, data))

    assert day.rows.height == 2
    assert day.rows["BilledCost"].sum() == Decimal("12")
    refused = day.quarantine.filter(pl.col("x_source_file") == name)
    assert refused.height == 1
    record = refused.row(0, named=True)
    assert record["x_column"] == "<file>"
    assert name in record["x_reason"]
    assert json.loads(record["x_raw_record"])["bytes"] == len(data)
    assert [f["file"] for f in day.refused_files] == [name]
    assert day.refused_files[0]["bytes"] == len(data)


def test_a_refused_file_never_echoes_binary_bytes(tmp_path):
    garbage = bytes(range(256)) * 4
    day = _ingest(tmp_path, _payload("garbage.csv", garbage))
    record = day.quarantine.row(0, named=True)
    excerpt = json.loads(record["x_raw_record"])["excerpt"]
    assert excerpt.isprintable()
    assert len(excerpt) <= 120
    assert record["x_reason"].isprintable()


def test_one_refused_file_passes_the_day_but_a_day_of_only_refused_files_fails(tmp_path):
    good = _payload("good.csv", _csv(_row("2024-01-05", "10.25")))
    one_bad = _ingest(tmp_path, good, _payload("empty.csv", b""))
    latin1 = _payload("e2.csv", BAD_FILES["latin1.csv"])
    all_bad = _ingest(tmp_path, _payload("empty.csv", b""), latin1)

    def check(day):
        return quarantine_threshold_result(focus_export, day, DAY, QuarantineLimits())

    assert check(one_bad).passed
    failed = check(all_bad)
    assert not failed.passed
    text = json.dumps(failed.failures)
    assert "empty.csv" in text and "e2.csv" in text and str(DAY) in text


def test_a_duplicated_column_name_is_refused_naming_file_and_column(tmp_path):
    header = HEADER + ",BilledCost"
    data = _csv(_row("2024-01-05", "10.25") + ",99", header=header)
    with pytest.raises(common.SourceFormatError, match=r"dup\.csv.*BilledCost"):
        focus_export.parse(data, source_file="dup.csv", ingestion_key="k", fetched_at=FETCHED)
    day = _ingest(tmp_path, _payload("dup.csv", data))
    assert "duplicated column 'BilledCost'" in day.quarantine["x_reason"][0]


def test_rows_of_another_day_keep_their_amount_and_currency(tmp_path):
    data = _csv(_row("2024-01-05", "10.25"), _row("2024-01-04", "7.5", currency="EUR"))
    day = _ingest(tmp_path, _payload("mixed.csv", data))

    assert day.rows.height == 1
    stray = day.quarantine.row(0, named=True)
    assert stray["x_column"] == "x_charge_date"
    assert (Decimal(stray["x_amount"]), stray["x_currency"]) == (Decimal("7.5"), "EUR")
