"""`finops close` / `finops reopen`: the audit table in a real Delta lake, idempotence, errors."""

import datetime as dt
import json
from decimal import Decimal

import polars as pl
import pytest

from finops_assets.allocate.closed_periods import closed_set, read_audit
from finops_assets.cli import main
from finops_assets.domain.audit_inputs import InputVersion
from finops_assets.domain.events import event_to_json
from finops_assets.domain.periods import (
    PENDING_EVENT,
    PeriodError,
    adjustment_cause,
    closed_periods,
    parse_period,
    pending_adjustments_day,
    pending_event,
)
from finops_assets.settings import Settings
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake


@pytest.fixture
def lake(tmp_path, monkeypatch) -> DeltaLake:
    monkeypatch.setenv("FINOPS_HOME", str(tmp_path))
    return DeltaLake(Settings.from_env().lake_uri)


def test_close_then_reopen_records_both_with_who_when_why(lake: DeltaLake, capsys):
    before = dt.datetime.now(dt.UTC)
    assert main(["close", "2026-10", "--by", "alice", "--reason", "month-end"]) == 0
    assert "closed 2026-10 (by alice)" in capsys.readouterr().out
    assert closed_set(lake) == {"2026-10"}
    assert main(["reopen", "2026-10", "--by", "bob", "--reason", "late AWS credit"]) == 0
    assert "reopened 2026-10 (by bob, reason: late AWS credit)" in capsys.readouterr().out
    assert closed_set(lake) == set()
    audit = read_audit(lake)
    assert audit.select("period", "action", "by", "reason").rows() == [
        ("2026-10", "close", "alice", "month-end"),
        ("2026-10", "reopen", "bob", "late AWS credit"),
    ]
    assert all(before <= at <= dt.datetime.now(dt.UTC) for at in audit["at"].to_list())


def test_close_is_idempotent_and_by_defaults_to_the_os_user(lake: DeltaLake, capsys):
    assert main(["close", "2026-10"]) == 0
    version = lake.version(tables.PERIOD_AUDIT)
    assert main(["close", "2026-10"]) == 0
    assert "2026-10 is already closed" in capsys.readouterr().out
    assert lake.version(tables.PERIOD_AUDIT) == version  # nothing added
    audit = read_audit(lake)
    assert audit.height == 1 and audit["by"][0]  # the OS account, never empty


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["close", "2026-13"], "bad period '2026-13': expected a month as YYYY-MM"),
        (["close", "October"], "bad period 'October'"),
        (["reopen", "2026-10", "--reason", "x"], "reopen 2026-10: the period is not closed"),
        (["reopen", "2026-10"], "reopen 2026-10: a reason is required"),
    ],
)
def test_bad_input_is_one_clear_error_and_records_nothing(
    lake: DeltaLake, capsys, argv: list[str], message: str
):
    assert main(argv) == 2
    assert message in capsys.readouterr().err
    assert read_audit(lake).is_empty()


def test_a_reopen_without_reason_of_a_closed_period_records_nothing(lake: DeltaLake, capsys):
    assert main(["close", "2026-10"]) == 0
    assert main(["reopen", "2026-10", "--reason", "  "]) == 2
    assert "a reason is required" in capsys.readouterr().err
    assert closed_set(lake) == {"2026-10"}


def test_state_is_the_last_action_per_period():
    audit = pl.DataFrame(
        {
            "period": ["2026-09", "2026-10", "2026-09", "2026-09"],
            "action": ["close", "close", "reopen", "close"],
        }
    )
    assert closed_periods(audit) == {"2026-09", "2026-10"}
    assert closed_periods(audit.head(3)) == {"2026-10"}
    assert parse_period(" 2026-01 ") == "2026-01"
    with pytest.raises(PeriodError):
        parse_period("2026-00")


def _rows(units: dict[str, str], version: str) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "x_charge_date": [dt.date(2026, 10, 3)] * len(units),
            "x_business_unit": list(units),
            "x_base_currency": ["EUR"] * len(units),
            "x_billed_cost_base": [Decimal(v) for v in units.values()],
            "x_effective_cost_base": [Decimal(v) for v in units.values()],
            "x_allocation_rule_version": [version] * len(units),
        },
        schema_overrides={
            "x_billed_cost_base": pl.Decimal(38, 10),
            "x_effective_cost_base": pl.Decimal(38, 10),
        },
    )


def test_pending_rows_keep_only_units_that_move_and_conserve():
    booked = _rows({"a": "10.00", "b": "5.00", "c": "1.00"}, "v1")
    would_be = _rows({"a": "8.50", "b": "6.50", "c": "1.00"}, "v2")
    frame = pending_adjustments_day(dt.date(2026, 10, 3), booked, would_be, "rule v1 -> v2")
    assert frame["x_business_unit"].to_list() == ["a", "b"]
    assert frame["billed_cost_delta"].to_list() == [Decimal("-1.5"), Decimal("1.5")]
    assert sum(frame["billed_cost_delta"].to_list(), Decimal(0)) == 0
    assert set(frame["period"].to_list()) == {"2026-10"}
    unchanged = pending_adjustments_day(dt.date(2026, 10, 3), booked, booked, "-")
    assert unchanged.is_empty()


def test_the_pending_alert_is_a_cloudevent_whose_id_follows_its_figures():
    booked = _rows({"a": "10.00", "b": "5.00"}, "v1")
    frame = pending_adjustments_day(
        dt.date(2026, 10, 3), booked, _rows({"a": "9.00", "b": "6.00"}, "v2"), "rule v1 -> v2"
    )
    event = pending_event(dt.date(2026, 10, 3), frame, "fingerprint-1")
    body = json.loads(event_to_json(event))
    assert body["type"] == PENDING_EVENT and body["subject"] == "period/2026-10"
    assert body["data"]["units"][0] == {
        "business_unit": "a",
        "currency": "EUR",
        "billed_cost_booked": "10.0000000000",
        "billed_cost_would_be": "9.0000000000",
        "billed_cost_delta": "-1.0000000000",
    }
    assert pending_event(dt.date(2026, 10, 3), frame, "fingerprint-1").get_id() == event.get_id()
    assert pending_event(dt.date(2026, 10, 3), frame, "fingerprint-2").get_id() != event.get_id()


def test_the_cause_names_the_rule_version_and_each_input_that_changed():
    booked = InputVersion("n1", "fx1", "u1")
    assert adjustment_cause("v1", "v2", booked, booked) == "rule version v1 -> v2"
    assert adjustment_cause("v1", "v1", booked, InputVersion("n1", "fx2", "u1")) == (
        "fx_change (exchange rates changed)"
    )
    both = adjustment_cause("v1", "v2", booked, InputVersion("n2", "fx1", "u2"))
    assert both == (
        "rule version v1 -> v2; restatement (normalized costs changed); "
        "usage changed (k8s_usage_raw)"
    )
    assert "not recorded" in adjustment_cause("v1", "v1", None, booked)
    assert adjustment_cause("v1", "v1", booked, booked).startswith("reallocation")
