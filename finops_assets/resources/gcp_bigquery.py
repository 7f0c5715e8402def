"""The GCP billing export table in BigQuery, through dagster-gcp's BigQueryResource.

One parameterized query per charge day: partitions pruned on `_PARTITIONTIME` from the day
before to two days after (exports land late and are restated), rows kept when
`usage_start_time` falls within the UTC day. Money columns are cast to NUMERIC in SQL, so the
client receives exact decimal strings (decoded to `decimal.Decimal`), never a float; the rows are
written to one Parquet payload with the export's nested layout (STRUCT, ARRAY<STRUCT>, NUMERIC as
decimal128(38, 9)), which the gcp_billing_export file parser reads as it reads a Parquet export.

The table name cannot be a query parameter: it is validated against BigQuery's naming rules and
quoted; the day bounds are query parameters, never text in the SQL.
"""

import datetime as dt
import io
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from finops_assets.resources.payloads import Payload, PayloadSource
from finops_assets.settings import Settings, SettingsError

_TABLE = re.compile(
    r"^(?P<project>[a-z][a-z0-9.:-]{4,61}[a-z0-9])\.(?P<dataset>[A-Za-z0-9_]{1,1024})"
    r"\.(?P<table>[\w$-]{1,1024})$"
)
# Money and quantities that the export stores as FLOAT64 arrive as NUMERIC.
QUERY = """
SELECT * REPLACE (
  CAST(cost AS NUMERIC) AS cost,
  CAST(cost_at_list AS NUMERIC) AS cost_at_list,
  CAST(currency_conversion_rate AS NUMERIC) AS currency_conversion_rate,
  (SELECT AS STRUCT usage.* REPLACE (
     CAST(usage.amount AS NUMERIC) AS amount,
     CAST(usage.amount_in_pricing_units AS NUMERIC) AS amount_in_pricing_units)) AS usage,
  ARRAY(SELECT AS STRUCT c.* REPLACE (CAST(c.amount AS NUMERIC) AS amount)
        FROM UNNEST(credits) AS c) AS credits
)
FROM `{table}`
WHERE _PARTITIONTIME BETWEEN @partition_from AND @partition_to
  AND usage_start_time >= @day_start AND usage_start_time < @day_end
"""

ClientFactory = Callable[[str], AbstractContextManager[Any]]


def parse_table(location: str) -> str:
    """`bigquery://project.dataset.table` -> the validated `project.dataset.table`."""
    head = "bigquery://"
    name = location[len(head) :] if location.lower().startswith(head) else ""
    if not _TABLE.match(name):
        raise SettingsError(
            f"{location!r} is not bigquery://project.dataset.table (BigQuery names only)"
        )
    return name


def day_query(table: str, day: dt.date) -> tuple[str, dict[str, dt.datetime]]:
    """The SQL for one charge day and its TIMESTAMP parameters (name -> UTC datetime)."""
    if not _TABLE.match(table):
        raise SettingsError(f"{table!r} is not a BigQuery table name")
    midnight = dt.datetime.combine(day, dt.time(), dt.UTC)
    parameters = {
        "partition_from": midnight - dt.timedelta(days=1),
        "partition_to": midnight + dt.timedelta(days=2),
        "day_start": midnight,
        "day_end": midnight + dt.timedelta(days=1),
    }
    return QUERY.format(table=table), parameters


def _arrow_type(field: Any) -> pa.DataType:
    """A BigQuery SchemaField -> the Arrow type of the export's Parquet layout."""
    kind = field.field_type.upper()
    if kind in ("RECORD", "STRUCT"):
        base: pa.DataType = pa.struct([pa.field(f.name, _arrow_type(f)) for f in field.fields])
    else:
        base = {
            "NUMERIC": pa.decimal128(38, 9),
            "BIGNUMERIC": pa.decimal256(76, 38),
            "INTEGER": pa.int64(),
            "INT64": pa.int64(),
            "FLOAT": pa.float64(),
            "FLOAT64": pa.float64(),
            "BOOLEAN": pa.bool_(),
            "BOOL": pa.bool_(),
            "TIMESTAMP": pa.timestamp("us", tz="UTC"),
            "DATE": pa.date32(),
        }.get(kind, pa.string())
    return pa.list_(base) if field.mode == "REPEATED" else base


def rows_to_parquet(schema: list[Any], rows: list[dict[str, Any]]) -> bytes:
    """Query rows (nested dicts, Decimal money) -> Parquet bytes with the export's nesting."""
    arrow_schema = pa.schema([pa.field(f.name, _arrow_type(f)) for f in schema])
    table = pa.Table.from_pylist(rows, schema=arrow_schema)
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="snappy")
    return sink.getvalue()


def bigquery_client(project: str) -> AbstractContextManager[Any]:
    """dagster-gcp's BigQueryResource client (Application Default Credentials)."""
    from dagster_gcp import BigQueryResource

    return BigQueryResource(project=project).get_client()


class BigQueryBillingExport(PayloadSource):
    """One day of the billing export table as one Parquet payload."""

    def __init__(self, table: str, client_factory: ClientFactory | None = None):
        self.table = table
        self._client_factory = client_factory

    def fetch(self, source: str, day: dt.date) -> list[Payload]:
        """The day's rows as one Parquet payload; no payload when the day has no rows."""
        from google.cloud import bigquery

        sql, values = day_query(self.table, day)
        config = bigquery.QueryJobConfig(
            query_parameters=[
                bigquery.ScalarQueryParameter(name, "TIMESTAMP", value)
                for name, value in values.items()
            ]
        )
        factory = self._client_factory or bigquery_client
        with factory(self.table.split(".")[0]) as client:
            result = client.query_and_wait(sql, job_config=config)
            rows = [dict(row.items()) for row in result]
            schema = list(result.schema)
        if not rows:
            return []
        name = f"{source}/{day.isoformat()}/bigquery-{self.table.rsplit('.', 1)[-1]}.parquet"
        fetched_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
        return [Payload(name=name, data=rows_to_parquet(schema, rows), fetched_at=fetched_at)]


def from_location(
    location: str, settings: Settings, clients: object = None
) -> BigQueryBillingExport:
    """FINOPS_SOURCE_GCP_BILLING_EXPORT=bigquery://project.dataset.table."""
    return BigQueryBillingExport(parse_table(location))
