"""CPU and memory utilization as the clouds export it, reduced to a daily p95 per resource.

Formats (one JSON document per file):
- AWS CloudWatch `GetMetricData` responses (`MetricDataResults`, labels set by the dynamic label
  "${PROP('Dim.InstanceId')} ${PROP('MetricName')}"; CPUUtilization and the CloudWatch agent's
  mem_used_percent), with the size from an EC2 `DescribeInstances` response;
- Google Cloud Monitoring `timeSeries.list` responses (compute.googleapis.com/instance/cpu/
  utilization as a fraction, agent.googleapis.com/memory/percent_used), size from the series'
  `metadata.systemLabels.machine_type`;
- Azure Monitor metrics responses ("Percentage CPU", "Available Memory Percentage"), with the
  size from an ARM virtual machines list.
Utilization is a percentage (a float: it is not money).
"""

import json
from datetime import date, datetime
from typing import Any

import polars as pl

SAMPLE_COLUMNS: dict[str, pl.DataType] = {
    "x_provider": pl.Utf8(),
    "resource_id": pl.Utf8(),
    "timestamp": pl.Datetime("us", "UTC"),
    "metric": pl.Utf8(),  # cpu | memory
    "percent": pl.Float64(),
}
UTILIZATION_COLUMNS: dict[str, pl.DataType] = {
    "x_charge_date": pl.Date(),
    "x_provider": pl.Utf8(),
    "resource_id": pl.Utf8(),
    "size": pl.Utf8(),
    "cpu_p95": pl.Float64(),
    "memory_p95": pl.Float64(),
    "samples": pl.Int64(),
}
_CLOUDWATCH_METRICS = {"CPUUtilization": "cpu", "mem_used_percent": "memory"}
_GCP_METRICS = {
    "compute.googleapis.com/instance/cpu/utilization": ("cpu", 100.0),
    "agent.googleapis.com/memory/percent_used": ("memory", 1.0),
}
_AZURE_METRICS = {"Percentage CPU": "cpu", "Available Memory Percentage": "memory_available"}


class UtilizationFormatError(ValueError):
    """A file that is not the metric export it claims to be; the message names what is missing."""


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def parse_cloudwatch(document: dict[str, Any]) -> list[tuple[str, str, datetime, str, float]]:
    """Samples of a GetMetricData response: (provider, instance id, time, metric, percent)."""
    if "MetricDataResults" not in document:
        raise UtilizationFormatError("CloudWatch response has no MetricDataResults")
    samples = []
    for result in document["MetricDataResults"]:
        instance_id, _, name = str(result.get("Label", "")).partition(" ")
        metric = _CLOUDWATCH_METRICS.get(name)
        if metric is None or not instance_id:
            continue
        for stamp, value in zip(result["Timestamps"], result["Values"], strict=True):
            samples.append(("aws", instance_id, _time(stamp), metric, float(value)))
    return samples


def parse_cloud_monitoring(
    document: dict[str, Any],
) -> tuple[list[tuple[str, str, datetime, str, float]], dict[str, str]]:
    """Samples and sizes of a timeSeries.list response; ids are the billing export's global names."""
    if "timeSeries" not in document:
        raise UtilizationFormatError("Cloud Monitoring response has no timeSeries")
    samples, sizes = [], {}
    for series in document["timeSeries"]:
        known = _GCP_METRICS.get(series.get("metric", {}).get("type", ""))
        if known is None:
            continue
        labels = series["resource"]["labels"]
        system = series.get("metadata", {}).get("systemLabels", {})
        resource_id = (
            f"//compute.googleapis.com/projects/{labels['project_id']}/zones/{labels['zone']}"
            f"/instances/{system['name']}"
        )
        sizes[resource_id] = system["machine_type"]
        metric, scale = known
        for point in series["points"]:
            value = float(point["value"]["doubleValue"]) * scale
            samples.append(("gcp", resource_id, _time(point["interval"]["endTime"]), metric, value))
    return samples, sizes


def parse_azure_monitor(document: dict[str, Any]) -> list[tuple[str, str, datetime, str, float]]:
    """Samples of an Azure Monitor metrics response (hourly averages); memory as used percent."""
    if "value" not in document or "timespan" not in document:
        raise UtilizationFormatError("Azure Monitor response has no value/timespan")
    samples = []
    for metric_doc in document["value"]:
        name = _AZURE_METRICS.get(metric_doc.get("name", {}).get("value", ""))
        if name is None:
            continue
        resource_id = metric_doc["id"].split("/providers/Microsoft.Insights/")[0]
        for series in metric_doc.get("timeseries", []):
            for point in series.get("data", []):
                if point.get("average") is None:
                    continue
                value = float(point["average"])
                metric = "cpu" if name == "cpu" else "memory"
                percent = value if name == "cpu" else 100.0 - value
                samples.append(("azure", resource_id, _time(point["timeStamp"]), metric, percent))
    return samples


def parse_inventory(document: dict[str, Any]) -> dict[str, str]:
    """resource id -> size from an EC2 DescribeInstances or an ARM virtual machines list."""
    if "Reservations" in document:
        return {
            instance["InstanceId"]: instance["InstanceType"]
            for reservation in document["Reservations"]
            for instance in reservation["Instances"]
        }
    if "value" in document:
        return {vm["id"]: vm["properties"]["hardwareProfile"]["vmSize"] for vm in document["value"]}
    raise UtilizationFormatError("inventory is neither DescribeInstances nor an ARM VM list")


def parse_utilization_file(data: bytes) -> tuple[list[tuple], dict[str, str]]:
    """Detect the format of one file: (samples, sizes) (an inventory file has no samples)."""
    document = json.loads(data)
    if not isinstance(document, dict):
        raise UtilizationFormatError("utilization file is not a JSON object")
    if "MetricDataResults" in document:
        return parse_cloudwatch(document), {}
    if "timeSeries" in document:
        return parse_cloud_monitoring(document)
    if "timespan" in document:
        return parse_azure_monitor(document), {}
    return [], parse_inventory(document)


def daily_p95(samples: list[tuple], sizes: dict[str, str]) -> pl.DataFrame:
    """Per UTC day and resource: p95 of CPU and of memory percent, the size, the sample count.

    Resources with no known size are dropped (they cannot be rightsized from a catalog).
    """
    frame = pl.DataFrame(samples, schema=SAMPLE_COLUMNS, orient="row")
    daily = (
        frame.with_columns(pl.col("timestamp").dt.date().alias("x_charge_date"))
        .group_by("x_charge_date", "x_provider", "resource_id")
        .agg(
            pl.col("percent")
            .filter(pl.col("metric") == "cpu")
            .quantile(0.95, "higher")
            .alias("cpu_p95"),
            pl.col("percent")
            .filter(pl.col("metric") == "memory")
            .quantile(0.95, "higher")
            .alias("memory_p95"),
            pl.len().cast(pl.Int64).alias("samples"),
        )
        .with_columns(
            pl.col("resource_id").replace_strict(sizes, default=None).alias("size"),
            pl.col("cpu_p95", "memory_p95").round(4),
        )
        .filter(pl.col("size").is_not_null())
    )
    return daily.select(
        pl.col(name).cast(dtype) for name, dtype in UTILIZATION_COLUMNS.items()
    ).sort("x_charge_date", "x_provider", "resource_id")


def utilization_for_days(files: list[bytes], days: list[date]) -> pl.DataFrame:
    """Daily p95 utilization from raw export files, limited to `days`."""
    samples: list[tuple] = []
    sizes: dict[str, str] = {}
    for data in files:
        more, more_sizes = parse_utilization_file(data)
        samples += more
        sizes.update(more_sizes)
    return daily_p95(samples, sizes).filter(pl.col("x_charge_date").is_in(days))
