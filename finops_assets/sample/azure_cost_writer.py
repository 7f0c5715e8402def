"""Sample Azure Cost Management Query API pages for one day (JPY, api-version 2023-11-01).

Rows are generated in integer units of 0.0001 yen and written as JSON numbers with at most four
fraction digits, never through a float. Pages hold at most `page_rows` rows and link to the next
with an absolute `nextLink` carrying a `$skiptoken`, as the real API does.
"""

import datetime as dt
import hashlib
import json
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

import numpy as np
import polars as pl

from finops_assets.sample import estate

SOURCE = "azure_cost"
PAGE_ROWS = 1_000
CHUNK_PAGES = 100
SCOPE = "providers/Microsoft.Billing/billingAccounts/8611537"
_QUERY = f"https://management.azure.com/{SCOPE}/providers/Microsoft.CostManagement/query"

_COLUMNS = (
    ("PreTaxCost", "Number"),
    ("CostUSD", "Number"),
    ("UsageDate", "Number"),
    ("SubscriptionId", "String"),
    ("SubscriptionName", "String"),
    ("ResourceGroupName", "String"),
    ("ResourceId", "String"),
    ("ResourceType", "String"),
    ("ResourceLocation", "String"),
    ("ServiceName", "String"),
    ("MeterCategory", "String"),
    ("MeterSubcategory", "String"),
    ("Meter", "String"),
    ("ChargeType", "String"),
    ("PublisherType", "String"),
    ("PricingModel", "String"),
    ("ReservationId", "String"),
    ("Tags", "String"),
    ("Currency", "String"),
)
# subscription | resource group | resource type | resource path | service | meter sub | meter
_RESOURCES = """
marketing-web-prod|web-frontend|Microsoft.Web/sites|Microsoft.Web/sites/acme-web|Azure App Service|Premium v3 Plan|P1 v3 App
marketing-web-prod|web-frontend|Microsoft.Compute/virtualMachines|Microsoft.Compute/virtualMachines/web-vm-01|Virtual Machines|Dv5 Series|D4 v5
marketing-web-prod|web-media|Microsoft.Storage/storageAccounts|Microsoft.Storage/storageAccounts/acmewebmedia|Storage|Tiered Block Blob|Hot LRS Data Stored
marketing-web-prod|web-media|Microsoft.Cdn/profiles|Microsoft.Cdn/profiles/acme-cdn|Content Delivery Network|Standard Microsoft|Standard Data Transfer
shared-services|shared-data|Microsoft.Sql/servers/databases|Microsoft.Sql/servers/acme-shared-sql/databases/shared-db|SQL Database|General Purpose - Compute Gen5|vCore
shared-services|shared-network|Microsoft.Network/azureFirewalls|Microsoft.Network/azureFirewalls/hub-fw|Azure Firewall|Standard|Standard Deployment
"""
_RESOURCE_ROWS = [line.split("|") for line in _RESOURCES.strip().splitlines()]
_RESERVATION = "/providers/Microsoft.Capacity/reservationOrders/7c1f0a4e/reservations/2b9d5e31"


def _resource_fields() -> list[list[str]]:
    """Per resource: the JSON-encoded string cells, in _COLUMNS order from SubscriptionId."""
    subs = {a.name: a for a in estate.accounts_for_source(SOURCE)}
    out = []
    for sub_name, group, rtype, path, service, meter_sub, meter in _RESOURCE_ROWS:
        account = subs[sub_name]
        rid = f"/subscriptions/{account.account_id}/resourceGroups/{group}/providers/{path}"
        values = [account.account_id, sub_name, group, rid, rtype.lower(), account.regions[0]]
        values += [service, service, meter_sub, meter, "Usage", "Azure", "OnDemand", ""]
        out.append([json.dumps(v) for v in values])
    return out


def _tags_choices(resource: int) -> list[str]:
    """Tag cells for one resource: the cost-center key in every spelling, then untagged."""
    account = estate.account(_resource_fields()[resource][0].strip('"'))
    unit = account.business_unit or "shared"
    tagged = [
        json.dumps([f'"{key}":"{unit}"', '"env":"prod"'])
        for key in estate.COST_CENTER_TAG_SPELLINGS
    ]
    return [*tagged, json.dumps([])]


def _amount_text(units: pl.Expr, scale: int) -> pl.Expr:
    """Integer units of 10**-scale -> shortest exact JSON number text."""
    magnitude = units.abs()
    text = pl.concat_str(
        pl.when(units < 0).then(pl.lit("-")).otherwise(pl.lit("")),
        (magnitude // 10**scale).cast(pl.Utf8),
        pl.lit("."),
        (magnitude % 10**scale).cast(pl.Utf8).str.zfill(scale),
    )
    return text.str.strip_chars_end("0").str.strip_chars_end(".")


def _row_texts(day: dt.date, resource: np.ndarray, cost: np.ndarray, tag: np.ndarray) -> pl.Series:
    """Generated choices -> one JSON array text per row."""
    fields = _resource_fields()
    spellings = len(estate.COST_CENTER_TAG_SPELLINGS) + 1
    tag_cells = [cell for r in range(len(fields)) for cell in _tags_choices(r)]
    cells = [",".join(f) for f in fields]
    frame = pl.DataFrame({"r": resource, "cost": cost, "tag": resource * spellings + tag})
    return frame.select(
        pl.concat_str(
            pl.lit("["),
            _amount_text(pl.col("cost"), 4),
            pl.lit(","),
            _amount_text(pl.col("cost") * 100 // 15_000, 6),
            pl.lit(f",{day:%Y%m%d},"),
            pl.lit(pl.Series(cells)).gather(pl.col("r")),
            pl.lit(","),
            pl.lit(pl.Series(tag_cells)).gather(pl.col("tag")),
            pl.lit(',"JPY"]'),
        )
    ).to_series()


def _special_rows(day: dt.date) -> list[str]:
    """A reservation purchase on the 1st and a reservation refund on the 15th."""
    sub = estate.account("5f1c0b1e-7a52-4c3e-9d7a-0b8e2f1a6c02")
    rows = []
    for when, charge, cost in ((1, "Purchase", "1250000"), (15, "Refund", "-41666.6667")):
        if day.day != when:
            continue
        values = [
            sub.account_id,
            sub.name,
            "",
            "",
            "",
            sub.regions[0],
            "Virtual Machines",
            "Virtual Machines",
            "Reservation-Base VM",
            "D4 v5",
            charge,
            "Azure",
            "Reservation",
            _RESERVATION,
            "[]",
        ]
        usd_text = str((Decimal(cost) / 150).quantize(Decimal("0.000001"), ROUND_DOWN))
        cells = ",".join(json.dumps(v) for v in values)
        rows.append(f'[{cost},{usd_text},{day:%Y%m%d},{cells},"JPY"]')
    return rows


def _page_bytes(rows: list[str], next_link: str | None, day: dt.date, number: int) -> bytes:
    name = hashlib.sha256(f"{day}:{number}".encode()).hexdigest()[:32]
    head = {
        "id": f"{SCOPE}/providers/Microsoft.CostManagement/query/{name}",
        "name": name,
        "type": "Microsoft.CostManagement/query",
        "location": None,
        "sku": None,
        "eTag": None,
    }
    properties = {
        "nextLink": next_link,
        "columns": [{"name": n, "type": t} for n, t in _COLUMNS],
    }
    head_text = json.dumps(head)[:-1]
    props_text = json.dumps(properties)[:-1]
    body = ",\n".join(rows)
    return f'{head_text}, "properties": {props_text}, "rows": [\n{body}\n]}}}}\n'.encode()


def _next_link(seed: int, day: dt.date, number: int) -> str:
    token = hashlib.sha256(f"{seed}:{day}:{number}".encode()).hexdigest()[:24]
    return f"{_QUERY}?api-version=2023-11-01&$skiptoken={token}"


def _chunks(day: dt.date, seed: int, rows: int, chunk_rows: int):
    """Row texts in chunks; the special rows (purchase, refund) come first."""
    special = _special_rows(day)
    if special:
        yield special
    resources = len(_RESOURCE_ROWS)
    spellings = len(estate.COST_CENTER_TAG_SPELLINGS) + 1
    for number, offset in enumerate(range(0, rows, chunk_rows)):
        rng = np.random.default_rng([seed, day.toordinal(), number])
        n = min(chunk_rows, rows - offset)
        resource = rng.integers(0, resources, n)
        cost = rng.integers(1, 1_500 * 10_000, n)
        tag = rng.integers(0, spellings, n)
        yield _row_texts(day, resource, cost, tag).to_list()


def write_day(
    landing_dir: Path, day: dt.date, seed: int, rows_per_day: int, page_rows: int = PAGE_ROWS
) -> list[Path]:
    """Write one day's query result as pages page-0001.json ... linked by nextLink."""
    folder = landing_dir / SOURCE / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    total = rows_per_day + len(_special_rows(day))
    pages = max(1, -(-total // page_rows))
    paths: list[Path] = []
    pending: list[str] = []

    def flush(rows: list[str]) -> None:
        number = len(paths) + 1
        link = _next_link(seed, day, number) if number < pages else None
        path = folder / f"page-{number:04d}.json"
        path.write_bytes(_page_bytes(rows, link, day, number))
        paths.append(path)

    for chunk in _chunks(day, seed, rows_per_day, page_rows * CHUNK_PAGES):
        pending.extend(chunk)
        full = len(pending) // page_rows * page_rows
        for start in range(0, full, page_rows):
            flush(pending[start : start + page_rows])
        pending = pending[full:]
    if pending or not paths:
        flush(pending)
    return paths
