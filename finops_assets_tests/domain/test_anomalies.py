"""Cost anomalies: seasonal median + MAD in billing currency; FX moves alone raise nothing."""

import datetime as dt
import json
from decimal import Decimal

import polars as pl

from finops_assets.domain.anomalies import (
    ANOMALY_TYPE,
    anomaly_event_id,
    anomaly_events,
    cost_anomalies,
)
from finops_assets.domain.events import event_to_json
from finops_assets.domain.money import MONEY
from finops_assets.resources.http_sinks import pagerduty_event, slack_message

DAY = dt.date(2026, 10, 29)  # a Thursday; history: Oct 22, 15, 8, 1


def allocated(billed: dict[dt.date, str], fx: str = "0.0067", currency: str = "JPY"):
    """marketing-web VM cost billed in `currency`, with a base-currency column at rate `fx`."""
    days = sorted(billed)
    return pl.DataFrame(
        {
            "x_charge_date": days,
            "x_business_unit": ["marketing-web"] * len(days),
            "ServiceName": ["Virtual Machines"] * len(days),
            "BillingCurrency": [currency] * len(days),
            "BilledCost": [Decimal(billed[d]) for d in days],
            "x_billed_cost_base": [Decimal(billed[d]) * Decimal(fx) for d in days],
        },
        schema_overrides={"BilledCost": MONEY, "x_billed_cost_base": MONEY},
    )


def weekly(values: list[str]) -> dict[dt.date, str]:
    """Values for DAY - 4 weeks ... DAY (one per week, oldest first)."""
    return {DAY - dt.timedelta(weeks=4 - n): v for n, v in enumerate(values)}


def test_a_spike_in_billing_currency_is_an_anomaly_with_a_stable_id() -> None:
    found = cost_anomalies(allocated(weekly(["10000", "10400", "9800", "10100", "30000"])), DAY)
    [row] = found.to_dicts()
    assert row["direction"] == "spike" and row["history_days"] == 4
    assert row["expected"] == Decimal("10050") and row["deviation"] == Decimal("19950")
    assert row["score"] == Decimal("9.9254")  # 19950 / max(1.4826 * 150, 0.2 * 10050)
    assert row["event_id"] == anomaly_event_id("marketing-web", "Virtual Machines", "JPY", DAY)


def test_an_fx_move_alone_raises_nothing() -> None:
    steady = weekly(["10000", "10400", "9800", "10100", "10050"])
    before = allocated({d: v for d, v in steady.items() if d < DAY}, fx="0.0067")
    after = allocated({DAY: steady[DAY]}, fx="0.0134")  # the yen doubles against the dollar
    assert cost_anomalies(pl.concat([before, after]), DAY).is_empty()


def test_small_or_short_histories_raise_nothing_and_drops_are_seen() -> None:
    short = {
        d: v
        for d, v in weekly(["1", "1", "1", "1", "900"]).items()
        if d > DAY - dt.timedelta(weeks=2)
    }
    assert cost_anomalies(allocated(short), DAY).is_empty()  # 1 history day < 3
    assert cost_anomalies(allocated(weekly(["100", "100", "100", "100", "105"])), DAY).is_empty()
    [drop] = cost_anomalies(
        allocated(weekly(["5000", "5000", "5100", "4900", "0"])), DAY
    ).to_dicts()
    assert drop["direction"] == "drop" and drop["actual"] == Decimal(0)


def test_anomalies_become_cloudevents_for_the_same_sinks() -> None:
    found = cost_anomalies(allocated(weekly(["10000", "10400", "9800", "10100", "30000"])), DAY)
    [event] = anomaly_events(found)
    body = json.loads(event_to_json(event))
    assert body["type"] == ANOMALY_TYPE and body["id"] == found["event_id"][0]
    assert body["subject"] == "business_unit/marketing-web/service/Virtual Machines"
    assert body["data"]["actual"] == "30000" and body["data"]["currency"] == "JPY"
    assert pagerduty_event(body, "key")["dedup_key"] == body["id"]
    assert slack_message(body)["text"].startswith(ANOMALY_TYPE)


def test_new_spend_against_a_zero_median_has_a_capped_score() -> None:
    [row] = cost_anomalies(allocated(weekly(["0", "0", "0", "0", "500"])), DAY).to_dicts()
    assert row["score"] == Decimal("9999.0000") and row["direction"] == "spike"
