"""Cost anomalies per business unit and service, by seasonal median and MAD, in source currency.

Series: per (business unit, ServiceName, BillingCurrency) the daily sum of BilledCost, in the
currency the provider billed (never converted, so an exchange-rate move alone raises nothing).
For a day d the history is the same weekday in the previous `weeks` weeks (a day with no cost
counts as 0). With at least `min_history` history days: m = median(history), MAD =
median(|h - m|), scale = max(1.4826 * MAD, `relative_floor` * |m|) (so a flat history does not make
every cent an anomaly), score = (x - m) / scale. An anomaly is |score| >= `threshold` and
|x - m| >= max(`relative_floor` * |m|, `min_amount` in the billing currency's major unit).
Everything is Decimal; the score is rounded half-up to 4 places and capped at +-9999 (new spend
against a zero median has no finite score).
"""

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, localcontext
from statistics import median

import polars as pl
from cloudevents.core.v1.event import CloudEvent

from finops_assets.domain.events import EVENT_NAMESPACE, end_of_day
from finops_assets.domain.money import MONEY, quantize_half_up

ANOMALY_TYPE = "com.finops.cost.anomaly.detected"
ANOMALY_SOURCE = "/finops_assets/anomalies"
SCORE = pl.Decimal(38, 4)

COST_ANOMALY_COLUMNS: dict[str, pl.DataType] = {
    "x_charge_date": pl.Date(),
    "x_business_unit": pl.Utf8(),
    "ServiceName": pl.Utf8(),
    "BillingCurrency": pl.Utf8(),
    "actual": MONEY,
    "expected": MONEY,  # the seasonal median
    "deviation": MONEY,
    "score": SCORE,
    "direction": pl.Utf8(),  # spike | drop
    "history_days": pl.Int32(),
    "event_id": pl.Utf8(),
}


@dataclass(frozen=True)
class AnomalyPolicy:
    """How much history, and how far from it, makes an anomaly."""

    weeks: int = 4
    min_history: int = 3
    threshold: Decimal = Decimal(5)
    relative_floor: Decimal = Decimal("0.2")
    min_amount: Decimal = Decimal(10)


def anomaly_event_id(business_unit: str, service: str, currency: str, day: date) -> str:
    """The deterministic id of the anomaly event of one series on one day."""
    key = f"anomaly|{business_unit}|{service}|{currency}|{day.isoformat()}"
    return str(uuid.uuid5(EVENT_NAMESPACE, key))


def _series(allocated: pl.DataFrame) -> dict[tuple[str, str, str], dict[date, Decimal]]:
    sums = (
        allocated.with_columns(pl.col("ServiceName").fill_null("(none)"))
        .group_by("x_business_unit", "ServiceName", "BillingCurrency", "x_charge_date")
        .agg(pl.col("BilledCost").cast(MONEY).sum())
    )
    series: dict[tuple[str, str, str], dict[date, Decimal]] = {}
    for unit, service, currency, day, cost in sums.iter_rows():
        series.setdefault((unit, service, currency), {})[day] = Decimal(cost)
    return series


def cost_anomalies(
    allocated: pl.DataFrame, day: date, policy: AnomalyPolicy = AnomalyPolicy()
) -> pl.DataFrame:
    """Anomalies on `day` (COST_ANOMALY_COLUMNS) from allocated rows of day and its history."""
    history_days = [day - timedelta(weeks=n) for n in range(1, policy.weeks + 1)]
    first = allocated["x_charge_date"].min() if allocated.height else None
    known = [d for d in history_days if first is not None and d >= first]  # type: ignore[operator]
    rows = []
    with localcontext() as ctx:
        ctx.prec = 60
        for (unit, service, currency), daily in sorted(_series(allocated).items()):
            if len(known) < policy.min_history:
                continue
            actual = daily.get(day, Decimal(0))
            history = [daily.get(d, Decimal(0)) for d in known]
            expected = median(history)
            mad = median([abs(h - expected) for h in history])
            floor = policy.relative_floor * abs(expected)
            scale = max(Decimal("1.4826") * mad, floor)
            deviation = actual - expected
            if abs(deviation) < max(floor, policy.min_amount):
                continue
            score = deviation / scale if scale > 0 else Decimal(9999).copy_sign(deviation)
            if abs(score) < policy.threshold:
                continue
            score = max(min(score, Decimal(9999)), Decimal(-9999))
            event_id = anomaly_event_id(unit, service, currency, day)
            rows.append(
                (day, unit, service, currency, actual, expected, deviation)
                + (quantize_half_up(score, 4), "spike" if score > 0 else "drop")
                + (len(known), event_id)
            )
    return pl.DataFrame(rows, schema=COST_ANOMALY_COLUMNS, orient="row")


def anomaly_events(anomalies: pl.DataFrame) -> list[CloudEvent]:
    """One CloudEvent (type com.finops.cost.anomaly.detected) per anomaly row."""
    events = []
    for row in anomalies.iter_rows(named=True):
        data = {
            "business_unit": row["x_business_unit"],
            "service": row["ServiceName"],
            "currency": row["BillingCurrency"],
            "day": row["x_charge_date"].isoformat(),
            "actual": format(row["actual"].normalize(), "f"),
            "expected": format(row["expected"].normalize(), "f"),
            "score": str(row["score"]),
            "direction": row["direction"],
        }
        attributes = {
            "specversion": "1.0",
            "id": row["event_id"],
            "type": ANOMALY_TYPE,
            "source": ANOMALY_SOURCE,
            "subject": f"business_unit/{row['x_business_unit']}/service/{row['ServiceName']}",
            "time": end_of_day(row["x_charge_date"]),
            "datacontenttype": "application/json",
        }
        events.append(CloudEvent(attributes, data))
    return events


def anomaly_summary(events: Iterable[CloudEvent]) -> list[str]:
    """Compact JSON of each event's data (for run metadata)."""
    return [json.dumps(e.get_data(), sort_keys=True) for e in events]
