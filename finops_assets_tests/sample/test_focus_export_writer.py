"""The OCI FOCUS 1.2 sample export: deterministic, parseable, and money-conserving end to end."""

import csv
import datetime as dt
import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import polars as pl
import pytest

from finops_assets.domain import focus
from finops_assets.domain.sources import focus_export
from finops_assets.domain.sources.detect import detect_format
from finops_assets.sample import estate, focus_export_writer

DAY = dt.date(2024, 3, 5)
FETCHED = dt.datetime(2024, 3, 6, tzinfo=dt.UTC)


def _write(folder: Path, rows: int = 500, seed: int = 7, day: dt.date = DAY) -> Path:
    (path,) = focus_export_writer.write_day(folder, day, seed, rows)
    return path


def _raw(path: Path) -> pl.DataFrame:
    result = focus_export.parse(
        path.read_bytes(), source_file=path.name, ingestion_key="k", fetched_at=FETCHED
    )
    assert result.quarantine.is_empty()
    return result.rows


def test_layout_and_determinism(tmp_path: Path) -> None:
    first = _write(tmp_path / "a")
    assert first == tmp_path / "a" / "focus_export" / "2024-03-05" / "focus-oci-2024-03-05.csv"
    assert first.read_bytes() == _write(tmp_path / "b").read_bytes()
    assert first.read_bytes() != _write(tmp_path / "c", seed=8).read_bytes()
    assert first.read_bytes() != _write(tmp_path / "d", day=DAY + dt.timedelta(days=1)).read_bytes()


def test_bytes_do_not_depend_on_the_chunk_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = _write(tmp_path / "whole", rows=1000).read_bytes()
    monkeypatch.setattr(focus_export_writer, "CHUNK_ROWS", 37)
    assert _write(tmp_path / "chunked", rows=1000).read_bytes() == whole


def test_round_trip_conserves_billed_totals(tmp_path: Path) -> None:
    path = _write(tmp_path, rows=2000)
    assert detect_format(path.read_bytes(), path.name) == "focus_export"
    raw = _raw(path)
    out = focus_export.to_focus(raw)

    with path.open(newline="") as handle:
        reference = sum((Decimal(r["BilledCost"]) for r in csv.DictReader(handle)), Decimal(0))
    totals = focus_export.billed_totals(raw)
    assert totals.rows() == [("USD", reference)]
    assert out["BilledCost"].sum() == reference
    assert out.schema == pl.Schema(focus.SOURCE_FOCUS_COLUMNS)
    assert out.height == 2000
    assert set(out["x_charge_date"]) == {DAY}
    assert set(out["x_provider"]) == {"oci"}


def test_content_covers_services_tax_and_tag_spellings(tmp_path: Path) -> None:
    out = focus_export.to_focus(_raw(_write(tmp_path, rows=2000)))
    account = estate.accounts_for_source("focus_export")[0]

    assert set(out["ServiceName"]) == {"Compute", "Block Volume", "Object Storage", "Tax"}
    assert set(out["SubAccountId"]) == {account.account_id}
    assert set(out["BillingCurrency"]) == {"USD"}
    tax = out.filter(pl.col("ChargeCategory") == "Tax")
    usage = out.filter(pl.col("ChargeCategory") == "Usage")
    assert tax.height == 1 and usage.height == 1999
    expected_tax = (usage["BilledCost"].sum() * focus_export_writer.TAX_RATE).quantize(
        Decimal("0.01"), ROUND_HALF_UP
    )
    assert tax["BilledCost"].to_list() == [expected_tax]
    keys = {k for t in usage["Tags"].drop_nulls() for k in json.loads(t)} - {"environment"}
    assert keys == set(estate.COST_CENTER_TAG_SPELLINGS)
    assert 0 < usage["Tags"].null_count() < usage.height
    assert (usage["ListCost"] >= usage["BilledCost"]).all()


def test_zero_rows_is_header_only(tmp_path: Path) -> None:
    path = _write(tmp_path, rows=0)
    assert path.read_text().count("\n") == 1
    assert _raw(path).is_empty()
