"""Sample CPU and memory utilization for the estate's compute resources, as the clouds export it.

The compute resources are those the day's billing files (written first by the other writers)
charge for: EC2 instances in the CUR, Compute Engine instances in the GCP export, virtual machines
in the Azure Query API pages. Each gets a size from the instance catalog and 24 hourly samples of
CPU and memory, deterministic per (seed, resource, day); about a third of them run idle enough to
be rightsized. Written to landing/utilization/<day>/ as CloudWatch GetMetricData and EC2
DescribeInstances, Cloud Monitoring timeSeries, and Azure Monitor metrics plus an ARM VM list.
"""

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

from finops_assets.domain.rightsizing import load_instance_catalog
from finops_assets.domain.sources import aws_cur, azure_cost, gcp_billing_export

SOURCE = "utilization"
MAX_RESOURCES_PER_PROVIDER = 40
CATALOG_PATH = Path(__file__).resolve().parents[1] / "config" / "instance_catalog.csv"
_FETCHED = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _unit(seed: int, *parts: object) -> float:
    """A deterministic number in [0, 1) from the seed and the parts."""
    digest = hashlib.sha256("|".join(map(str, (seed, *parts))).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def compute_resources(landing_dir: Path, day: dt.date) -> dict[str, list[str]]:
    """Provider -> sorted compute resource ids charged in the day's billing files."""
    found: dict[str, set[str]] = {"aws": set(), "gcp": set(), "azure": set()}
    readers = (
        ("aws", aws_cur, "aws_cur", "line_item_resource_id", "i-"),
        ("gcp", gcp_billing_export, "gcp_billing_export", "resource_global_name", "/instances/"),
        ("azure", azure_cost, "azure_cost", "resource_id", "/virtualMachines/"),
    )
    for provider, module, source, column, marker in readers:
        for path in sorted((landing_dir / source / day.isoformat()).glob("*")):
            if source == "aws_cur" and path.name.endswith(".csv.gz"):
                continue  # the same rows as the Parquet file
            raw = module.parse(  # type: ignore[attr-defined]
                path.read_bytes(), source_file=path.name, ingestion_key="x", fetched_at=_FETCHED
            ).rows
            ids = raw.get_column(column).drop_nulls().unique().to_list()
            found[provider] |= {
                i for i in ids if marker in i and (provider != "aws" or i[:2] == "i-")
            }
    return {p: sorted(ids)[:MAX_RESOURCES_PER_PROVIDER] for p, ids in found.items()}


def _profile(seed: int, resource: str, day: dt.date, sizes: list[str]) -> tuple[str, list, list]:
    """(size, 24 CPU percents, 24 memory percents) of one resource on one day."""
    size = sizes[1 + int(_unit(seed, resource, "size") * (len(sizes) - 1))]
    idle = _unit(seed, resource, "idle") < 0.35
    base_cpu, base_mem = (8.0, 20.0) if idle else (45.0, 60.0)
    cpu = [round(base_cpu + 20 * _unit(seed, resource, day, h, "c"), 2) for h in range(24)]
    mem = [round(base_mem + 15 * _unit(seed, resource, day, h, "m"), 2) for h in range(24)]
    return size, cpu, mem


def _hours(day: dt.date) -> list[str]:
    return [f"{day.isoformat()}T{h:02d}:00:00Z" for h in range(24)]


def _aws(seed: int, day: dt.date, ids: list[str], sizes: list[str]) -> tuple[dict, dict]:
    results, instances = [], []
    for n, instance in enumerate(ids):
        size, cpu, mem = _profile(seed, instance, day, sizes)
        instances.append(
            {"InstanceId": instance, "InstanceType": size, "State": {"Name": "running"}}
        )
        for metric, values in (("CPUUtilization", cpu), ("mem_used_percent", mem)):
            results.append(
                {
                    "Id": f"m{n}_{metric.lower()}",
                    "Label": f"{instance} {metric}",
                    "Timestamps": _hours(day),
                    "Values": values,
                    "StatusCode": "Complete",
                }
            )
    metrics = {"MetricDataResults": results, "Messages": []}
    return metrics, {"Reservations": [{"Instances": instances}]}


def _gcp(seed: int, day: dt.date, ids: list[str], sizes: list[str]) -> dict:
    series = []
    for global_name in ids:
        size, cpu, mem = _profile(seed, global_name, day, sizes)
        parts = global_name.split("/")
        project, zone, name = parts[parts.index("projects") + 1], parts[-3], parts[-1]
        for metric, values, scale in (
            ("compute.googleapis.com/instance/cpu/utilization", cpu, 0.01),
            ("agent.googleapis.com/memory/percent_used", mem, 1.0),
        ):
            points = [
                {"interval": {"endTime": t}, "value": {"doubleValue": round(v * scale, 6)}}
                for t, v in zip(_hours(day), values, strict=True)
            ]
            series.append(
                {
                    "metric": {"type": metric, "labels": {}},
                    "resource": {
                        "type": "gce_instance",
                        "labels": {"project_id": project, "zone": zone, "instance_id": name},
                    },
                    "metadata": {"systemLabels": {"name": name, "machine_type": size}},
                    "metricKind": "GAUGE",
                    "valueType": "DOUBLE",
                    "points": points[::-1],  # the API returns newest first
                }
            )
    return {"timeSeries": series, "unit": "1"}


def _azure(seed: int, day: dt.date, ids: list[str], sizes: list[str]) -> tuple[dict, dict]:
    values: list[dict[str, Any]] = []
    vms = []
    for vm in ids:
        size, cpu, mem = _profile(seed, vm, day, sizes)
        vms.append(
            {
                "id": vm,
                "name": vm.rsplit("/", 1)[-1],
                "properties": {"hardwareProfile": {"vmSize": size}},
            }
        )
        for metric, series in (
            ("Percentage CPU", cpu),
            ("Available Memory Percentage", [round(100 - m, 2) for m in mem]),
        ):
            data = [
                {"timeStamp": t, "average": v} for t, v in zip(_hours(day), series, strict=True)
            ]
            values.append(
                {
                    "id": f"{vm}/providers/Microsoft.Insights/metrics/{metric}",
                    "type": "Microsoft.Insights/metrics",
                    "name": {"value": metric, "localizedValue": metric},
                    "unit": "Percent",
                    "timeseries": [{"metadatavalues": [], "data": data}],
                }
            )
    span = f"{day.isoformat()}T00:00:00Z/{(day + dt.timedelta(days=1)).isoformat()}T00:00:00Z"
    metrics = {
        "cost": 0,
        "timespan": span,
        "interval": "PT1H",
        "value": values,
        "namespace": "Microsoft.Compute/virtualMachines",
        "resourceregion": "japaneast",
    }
    return metrics, {"value": vms}


def write_day(landing_dir: Path, day: dt.date, seed: int, rows_per_day: int) -> list[Path]:
    """Write the day's utilization exports for the compute resources billed that day."""
    catalog = load_instance_catalog(CATALOG_PATH.read_text(encoding="utf-8"))
    sizes = {
        provider: [
            s.size
            for s in sorted(catalog.values(), key=lambda s: s.hourly_price)
            if s.provider == provider and s.family == family
        ]
        for provider, family in (("aws", "m5"), ("gcp", "n2-standard"), ("azure", "Dsv5"))
    }
    resources = compute_resources(landing_dir, day)
    aws_metrics, aws_inventory = _aws(seed, day, resources["aws"], sizes["aws"])
    azure_metrics, azure_inventory = _azure(seed, day, resources["azure"], sizes["azure"])
    documents = {
        "aws_cloudwatch_get_metric_data.json": aws_metrics,
        "aws_ec2_describe_instances.json": aws_inventory,
        "gcp_cloud_monitoring_time_series.json": _gcp(seed, day, resources["gcp"], sizes["gcp"]),
        "azure_monitor_metrics.json": azure_metrics,
        "azure_virtual_machines.json": azure_inventory,
    }
    folder = landing_dir / SOURCE / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, document in documents.items():
        path = folder / name
        path.write_text(json.dumps(document, sort_keys=True, indent=1), encoding="utf-8")
        written.append(path)
    return written
