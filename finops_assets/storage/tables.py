"""Every Delta table of the platform, declared once: name (= asset name), columns, partitions."""

from types import ModuleType

from finops_assets.domain.allocate import ALLOCATED_COLUMNS
from finops_assets.domain.anomalies import COST_ANOMALY_COLUMNS
from finops_assets.domain.audit import ALLOCATION_VERSIONS_COLUMNS, AUDIT_COLUMNS
from finops_assets.domain.budgets import BUDGET_STATUS_COLUMNS
from finops_assets.domain.catalog import CATALOG_COLUMNS
from finops_assets.domain.commitments import COMMITMENT_COLUMNS
from finops_assets.domain.driver_files import DRIVER_COLUMNS
from finops_assets.domain.events import BUDGET_EVENTS_COLUMNS
from finops_assets.domain.focus import NORMALIZED_COLUMNS
from finops_assets.domain.fx import DAY_RATES_SCHEMA
from finops_assets.domain.k8s import K8S_USAGE_COLUMNS
from finops_assets.domain.kpis import ALLOCATION_COVERAGE_COLUMNS, KPI_VALUE_COLUMNS
from finops_assets.domain.periods import PENDING_COLUMNS, PERIOD_AUDIT_COLUMNS
from finops_assets.domain.preview import PREVIEW_COLUMNS
from finops_assets.domain.reporting import COST_BY_UNIT_COLUMNS
from finops_assets.domain.rightsizing import RIGHTSIZING_COLUMNS
from finops_assets.domain.rule_history import APPLICABLE_RULE_COLUMNS, RULE_HISTORY_COLUMNS
from finops_assets.domain.sources.common import QUARANTINE_COLUMNS
from finops_assets.storage.contract import DAY_COLUMN, TableContract


def raw_contract(source: ModuleType) -> TableContract:
    """The typed raw table of one billing source: `<source>_raw`, partitioned by charge day."""
    return TableContract(
        name=f"{source.SOURCE}_raw",
        columns=source.RAW_COLUMNS,
        description=f"{source.SOURCE} rows as the provider sent them, typed, plus ingestion metadata",
    )


QUARANTINE = TableContract(
    name="quarantine",
    columns=QUARANTINE_COLUMNS,
    partition_by=(DAY_COLUMN, "x_source"),
    description="Rows that could not be ingested or normalized, with file, line, column and reason",
)
K8S_USAGE_RAW = TableContract(
    name="k8s_usage_raw",
    columns=K8S_USAGE_COLUMNS,
    description="Kubernetes pod CPU and memory usage and requests per interval (koku format)",
)
ALLOCATION_DRIVERS_RAW = TableContract(
    name="allocation_drivers_raw",
    columns=DRIVER_COLUMNS,
    description="Usage measures from the customer's driver files (landing/drivers/<name>/), "
    "per day, driver, key and measure",
)
FX_RATES = TableContract(
    name="fx_rates",
    columns=DAY_RATES_SCHEMA,
    description="Units of each currency per EUR for each charge day, and the publication day used",
)
SERVICE_CATALOG = TableContract(
    name="service_catalog",
    columns=CATALOG_COLUMNS,
    partition_by=(),
    day_column=None,
    description="Provider service code -> FOCUS ServiceName, ServiceCategory, ServiceSubcategory",
)
NORMALIZED_COSTS = TableContract(
    name="normalized_costs",
    columns=NORMALIZED_COLUMNS,
    partition_by=(DAY_COLUMN, "x_provider"),
    description="FOCUS 1.2 cost rows of every source with base-currency amounts",
)
ALLOCATED_COSTS = TableContract(
    name="allocated_costs",
    columns=ALLOCATED_COLUMNS,
    partition_by=(DAY_COLUMN, "x_provider", "x_business_unit"),
    description="Normalized cost split onto business units, with allocation lineage on every row",
)
COST_BY_BUSINESS_UNIT = TableContract(
    name="cost_by_business_unit",
    columns=COST_BY_UNIT_COLUMNS,
    partition_by=("x_provider", DAY_COLUMN, "x_business_unit"),
    description="Allocated cost per day, provider, business unit and category (base currency)",
)
BUDGET_STATUS = TableContract(
    name="budget_status",
    columns=BUDGET_STATUS_COLUMNS,
    description="Per budget and day: month-to-date actual, forecast, thresholds crossed, state",
)
BUDGET_EVENTS = TableContract(
    name="budget_events",
    columns=BUDGET_EVENTS_COLUMNS,
    description="CloudEvents raised for budget thresholds (deterministic ids)",
)
FINOPS_KPIS = TableContract(
    name="finops_kpis",
    columns=ALLOCATION_COVERAGE_COLUMNS,
    description="Allocation coverage per day and method",
)
ALLOCATION_RULES = TableContract(
    name="allocation_rules",
    columns=RULE_HISTORY_COLUMNS,
    partition_by=(),
    day_column=None,
    description="Every materialized rule history: one row per version with its effective window",
)
APPLICABLE_RULES = TableContract(
    name="applicable_rules",
    columns=APPLICABLE_RULE_COLUMNS,
    description="Per charge day, the allocation rule version whose effective window contains it",
)
ALLOCATION_PREVIEW = TableContract(
    name="allocation_preview",
    columns=PREVIEW_COLUMNS,
    description="Per day and business unit, booked vs a candidate rule file's allocation",
)
PERIOD_AUDIT = TableContract(
    name="period_audit",
    columns=PERIOD_AUDIT_COLUMNS,
    partition_by=(),
    day_column=None,
    description="Every close and reopen of a billing period: who, when, why (append-only)",
)
PENDING_ADJUSTMENTS = TableContract(
    name="pending_adjustments",
    columns=PENDING_COLUMNS,
    description="Per closed day, business unit and currency: booked, would-be, delta, cause",
)
ALLOCATION_VERSIONS = TableContract(
    name="allocation_versions",
    columns=ALLOCATION_VERSIONS_COLUMNS,
    description="Per day, the latest allocation run and the allocated_costs versions around it; "
    "derived from allocated_costs' Delta log (allocate.versions), no longer written",
)
ALLOCATION_AUDIT = TableContract(
    name="allocation_audit",
    columns=AUDIT_COLUMNS,
    partition_by=(DAY_COLUMN, "x_business_unit"),
    description="Per re-allocated day and business unit: totals before and after, rule versions",
)
RIGHTSIZING_RECOMMENDATIONS = TableContract(
    name="rightsizing_recommendations",
    columns=RIGHTSIZING_COLUMNS,
    description="Per day: underused compute resources, a smaller catalog size, monthly savings",
)
COMMITMENT_RECOMMENDATIONS = TableContract(
    name="commitment_recommendations",
    columns=COMMITMENT_COLUMNS,
    description="Per day: commitments worth buying per provider and term, net of those owned",
)
COST_ANOMALIES = TableContract(
    name="cost_anomalies",
    columns=COST_ANOMALY_COLUMNS,
    description="Per day: business unit and service spend far from its seasonal median (MAD)",
)
FINOPS_KPI_VALUES = TableContract(
    name="finops_kpi_values",
    columns=KPI_VALUE_COLUMNS,
    description="Per day: savings realization and (at month end) budget forecast accuracy KPIs",
)
