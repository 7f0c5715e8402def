"""Rightsizing: catalog, utilization exports of three clouds, recommendations and Decimal savings."""

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from finops_assets.domain.money import MONEY
from finops_assets.domain.rightsizing import (
    CatalogError,
    RightsizingPolicy,
    load_instance_catalog,
    rightsizing_recommendations,
    smaller_size,
)
from finops_assets.domain.utilization import (
    UTILIZATION_COLUMNS,
    UtilizationFormatError,
    parse_utilization_file,
    utilization_for_days,
)
from finops_assets.sample import (
    aws_cur_writer,
    azure_cost_writer,
    gcp_billing_export_writer,
    utilization_writer,
)
from finops_assets.sample.utilization_writer import CATALOG_PATH

CATALOG = load_instance_catalog(CATALOG_PATH.read_text())
DAY = dt.date(2026, 10, 10)


def utilization(days: int, cpu: float, memory: float, size: str = "m5.2xlarge") -> pl.DataFrame:
    rows = [(DAY - dt.timedelta(days=n), "aws", "i-01", size, cpu, memory, 48) for n in range(days)]
    return pl.DataFrame(rows, schema=UTILIZATION_COLUMNS, orient="row")


def costs(total: str) -> pl.DataFrame:
    return pl.DataFrame(
        {"ResourceId": ["i-01", "i-01"], "x_business_unit": ["search", "payments"]}
        | {"x_effective_cost_base": [Decimal(total) - 1, Decimal(1)]},
        schema_overrides={"x_effective_cost_base": MONEY},
    )


def test_catalog_prices_are_decimal_and_bad_lines_are_named() -> None:
    assert CATALOG["m5.xlarge"].hourly_price == Decimal("0.192")
    header = "provider,family,size,vcpu,memory_gib,hourly_price,currency\n"
    with pytest.raises(CatalogError, match="line 2"):
        load_instance_catalog(header + "aws,m5,m5.large,2,8,cheap,USD\n")
    with pytest.raises(CatalogError, match="duplicate size m5.large"):
        load_instance_catalog(header + "aws,m5,m5.large,2,8,1,USD\n" * 2)


def test_smaller_size_keeps_headroom_in_the_same_family() -> None:
    current = CATALOG["m5.2xlarge"]  # 8 vCPU, 32 GiB
    assert smaller_size(current, 27.0, 35.0, CATALOG, 70.0).size == "m5.xlarge"  # type: ignore[union-attr]
    assert smaller_size(current, 10.0, 10.0, CATALOG, 70.0).size == "m5.large"  # type: ignore[union-attr]
    assert smaller_size(current, 27.0, 80.0, CATALOG, 70.0) is None  # memory needs all 32 GiB


def test_idle_for_n_days_gives_a_recommendation_with_exact_savings() -> None:
    found = rightsizing_recommendations(utilization(7, 27.0, 35.0), costs("700"), CATALOG, DAY)
    [row] = found.to_dicts()
    assert (row["current_size"], row["recommended_size"]) == ("m5.2xlarge", "m5.xlarge")
    assert row["x_business_unit"] == "search" and row["days_observed"] == 7
    assert row["observed_monthly_cost"] == Decimal("3000.00")  # 700 / 7 days * 30
    assert row["estimated_monthly_savings"] == Decimal("1500.00")  # half the price
    assert found.schema["estimated_monthly_savings"] == MONEY


def test_too_few_days_or_a_busy_day_gives_nothing() -> None:
    assert rightsizing_recommendations(
        utilization(6, 27.0, 35.0), costs("1"), CATALOG, DAY
    ).is_empty()
    busy = pl.concat([utilization(7, 27.0, 35.0), utilization(1, 55.0, 35.0)])
    assert rightsizing_recommendations(busy, costs("1"), CATALOG, DAY).is_empty()
    policy = RightsizingPolicy(min_days=3)
    assert (
        rightsizing_recommendations(
            utilization(3, 27.0, 35.0), costs("1"), CATALOG, DAY, policy
        ).height
        == 1
    )


def test_without_observed_cost_savings_come_from_list_prices() -> None:
    empty = costs("1").clear()
    [row] = rightsizing_recommendations(utilization(7, 27.0, 35.0), empty, CATALOG, DAY).to_dicts()
    assert row["observed_monthly_cost"] is None
    assert row["estimated_monthly_savings"] == Decimal("140.16")  # (0.384 - 0.192) * 730


def test_unknown_formats_are_refused() -> None:
    with pytest.raises(UtilizationFormatError, match="neither DescribeInstances"):
        parse_utilization_file(json.dumps({"something": 1}).encode())
    with pytest.raises(UtilizationFormatError, match="not a JSON object"):
        parse_utilization_file(b"[]")


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One day of the sample estate's CUR, GCP and Azure files, then its utilization exports."""
    folder = tmp_path_factory.mktemp("landing")
    aws_cur_writer.write_day(folder, DAY, 7, 300)
    gcp_billing_export_writer.write_day(folder, DAY, 7, 200)
    azure_cost_writer.write_day(folder, DAY, 7, 100)
    utilization_writer.write_day(folder, DAY, 7, 1)
    return folder


def test_writer_covers_the_billed_compute_resources_in_three_formats(landing: Path) -> None:
    paths = sorted((landing / "utilization" / DAY.isoformat()).glob("*.json"))
    assert [p.name for p in paths] == [
        "aws_cloudwatch_get_metric_data.json",
        "aws_ec2_describe_instances.json",
        "azure_monitor_metrics.json",
        "azure_virtual_machines.json",
        "gcp_cloud_monitoring_time_series.json",
    ]
    daily = utilization_for_days([p.read_bytes() for p in paths], [DAY])
    billed = utilization_writer.compute_resources(landing, DAY)
    for provider in ("aws", "gcp", "azure"):
        ids = daily.filter(pl.col("x_provider") == provider)["resource_id"].to_list()
        assert ids and sorted(ids) == billed[provider]
    assert (daily["samples"] == 48).all()  # 24 hourly CPU + 24 memory samples
    assert daily["cpu_p95"].is_between(0, 100).all() and daily["size"].is_in(list(CATALOG)).all()
    first = paths[0].read_bytes()
    utilization_writer.write_day(landing, DAY, 7, 1)
    assert paths[0].read_bytes() == first  # deterministic
