"""The providers' native delivery layouts in a bucket: which objects are a period's delivery.

Keys are relative to the watched location (the export's folder). Each layout groups the listed
objects by billing period and names the current delivery of each period:

| layout   | keys                                                                  | current    |
|----------|-----------------------------------------------------------------------|------------|
| `cur2`   | `data/BILLING_PERIOD=YYYY-MM/[<delivery folder>/]<file>`,             | newest     |
|          | `metadata/BILLING_PERIOD=YYYY-MM/[<folder>/]<export>-Manifest.json`   | manifest's |
| `cur`    | `<YYYYMMDD-YYYYMMDD>/<assemblyId>/<file>`,                            | manifest's |
|          | `<YYYYMMDD-YYYYMMDD>/<report>-Manifest.json` (end day exclusive)      | assembly   |
| `azure`  | `<YYYYMMDD-YYYYMMDD>/<run id>/part_*.csv/parquet` + `manifest.json`,  | newest run |
|          | legacy exports: `<YYYYMMDD-YYYYMMDD>/<file>.csv` (one file per run)   |            |
| `months` | `<source>/<YYYY-MM>/<file>` (GCS files by month, manifest optional)   | all files  |

A superseded delivery (an older assembly or run, files a newer manifest no longer lists, an
older "create new" subfolder whose files have the same names) is never part of the current one:
a Data Exports manifest's file is matched by its path from `BILLING_PERIOD=` on, not its name. Pure Python: the bucket resources list and read, this decides.
"""

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from finops_assets.domain.deliveries import Manifest, is_manifest_name

LAYOUTS = ("cur2", "cur", "azure", "months")
_SPAN = re.compile(r"^(\d{8})-(\d{8})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_CUR2_PERIOD = re.compile(r"^BILLING_PERIOD=(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Listed:
    """One object as listed: key (relative to the location), content tag, last change."""

    key: str
    version: str  # the provider's content tag: ETag or MD5
    modified: dt.datetime

    @property
    def name(self) -> str:
        """The file name (last key segment)."""
        return self.key.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class PeriodListing:
    """Every object of one billing period's folder(s), superseded deliveries included."""

    source: str | None  # the source folder in multi-source layouts (`months`), else None
    label: str  # the period as the layout names it: `2026-10` or `20261001-20261101`
    span: tuple[dt.date, dt.date]  # first and last charge day, inclusive
    objects: tuple[Listed, ...]

    @property
    def key(self) -> str:
        """`<source>/<label>`, or `<label>`: the period's identity within its location."""
        return f"{self.source}/{self.label}" if self.source else self.label


def group_periods(layout: str, listed: Iterable[Listed]) -> list[PeriodListing]:
    """The billing periods the layout finds among `listed`, in key order; other keys are not
    part of any delivery (hidden `.` files and unfinished `.tmp` copies neither)."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown delivery layout {layout!r}; one of {LAYOUTS}")
    groups: dict[tuple[str | None, str], list[Listed]] = {}
    spans: dict[tuple[str | None, str], tuple[dt.date, dt.date]] = {}
    for obj in listed:
        if obj.name.startswith(".") or obj.name.endswith(".tmp"):
            continue
        found = _period_of(layout, obj.key.split("/"))
        if found is not None:
            source, label, span = found
            groups.setdefault((source, label), []).append(obj)
            spans[(source, label)] = span
    return [
        PeriodListing(source, label, spans[(source, label)], tuple(sorted(objs, key=_by_key)))
        for (source, label), objs in sorted(
            groups.items(), key=lambda kv: (kv[0][0] or "", kv[0][1])
        )
    ]


def current_manifest(layout: str, period: PeriodListing) -> Listed | None:
    """The manifest naming the period's current delivery, or None when it has none."""
    if layout == "azure":
        candidates = [o for o in _latest_run(period) if is_manifest_name(o.name)]
    elif layout == "cur":
        candidates = [o for o in period.objects if _depth(o) == 2 and is_manifest_name(o.name)]
    else:
        candidates = [o for o in period.objects if is_manifest_name(o.name)]
    return max(candidates, key=_by_time) if candidates else None


def delivery_files(layout: str, period: PeriodListing, manifest: Manifest | None) -> list[Listed]:
    """The data files of the period's current delivery, as listed (a file the manifest names but
    the bucket lacks is not here: check_against_manifest names it)."""
    data = [o for o in period.objects if not is_manifest_name(o.name)]
    if layout == "cur2":
        data = [o for o in data if o.key.split("/")[0] == "data"]
        if manifest is None:
            data = _newest_folder(data)
    elif layout == "cur":
        data = _cur_assembly(data, manifest)
    elif layout == "azure":
        data = [o for o in _latest_run(period) if not is_manifest_name(o.name)]
    if manifest is not None:
        data = [o for o in data if manifest.lists(o.key)]
    return sorted(data, key=_by_key)


def _period_of(
    layout: str, parts: list[str]
) -> tuple[str | None, str, tuple[dt.date, dt.date]] | None:
    """(source, label, span) of a key's period in `layout`, or None for a key outside it."""
    if layout == "cur2" and len(parts) in (3, 4) and parts[0] in ("data", "metadata"):
        match = _CUR2_PERIOD.fullmatch(parts[1])
        span = _month_span(*match.groups()) if match else None
        return (None, f"{match.group(1)}-{match.group(2)}", span) if match and span else None
    if layout in ("cur", "azure") and len(parts) in (2, 3):
        span = _folder_span(parts[0], end_exclusive=layout == "cur")
        return (None, parts[0], span) if span else None
    if layout == "months" and len(parts) == 3:
        match = _MONTH.fullmatch(parts[1])
        span = _month_span(*match.groups()) if match else None
        return (parts[0], parts[1], span) if span else None
    return None


def _cur_assembly(data: list[Listed], manifest: Manifest | None) -> list[Listed]:
    """Legacy CUR: the manifest's assembly folder; without a manifest the newest assembly.

    A manifest without an assemblyId (a report that overwrites) names files in the period
    folder itself.
    """
    nested = [o for o in data if _depth(o) == 3]
    if manifest is not None:
        if manifest.assembly is None:
            return [o for o in data if _depth(o) == 2]
        return [o for o in nested if o.key.split("/")[1] == manifest.assembly]
    if not nested:
        return [o for o in data if _depth(o) == 2]
    newest = max(nested, key=_by_time).key.split("/")[1]
    return [o for o in nested if o.key.split("/")[1] == newest]


def _newest_folder(data: list[Listed]) -> list[Listed]:
    """Data Exports without a manifest: the files of the newest folder (a "create new" delivery
    subfolder, or the period folder itself for an export that overwrites)."""
    folders: dict[str, list[Listed]] = {}
    for obj in data:
        folders.setdefault(obj.key.rsplit("/", 1)[0], []).append(obj)
    if not folders:
        return []
    return max(folders.values(), key=lambda objs: max(_by_time(o) for o in objs))


def _latest_run(period: PeriodListing) -> list[Listed]:
    """Azure: the objects of the newest run folder (or the newest file directly in the period
    folder: a legacy export writes one file per run)."""
    runs: dict[str, list[Listed]] = {}
    for obj in period.objects:
        run = obj.key.split("/")[1] if _depth(obj) == 3 else obj.key
        runs.setdefault(run, []).append(obj)
    if not runs:
        return []
    newest = max(runs, key=lambda run: (max(o.modified for o in runs[run]), run))
    return runs[newest]


def _folder_span(name: str, end_exclusive: bool) -> tuple[dt.date, dt.date] | None:
    match = _SPAN.fullmatch(name)
    if not match:
        return None
    try:
        first, end = (dt.datetime.strptime(g, "%Y%m%d").date() for g in match.groups())
    except ValueError:
        return None
    last = end - dt.timedelta(days=1) if end_exclusive else end
    return (first, last) if first <= last else None


def _month_span(year: str, month: str) -> tuple[dt.date, dt.date] | None:
    try:
        first = dt.date(int(year), int(month), 1)
    except ValueError:
        return None
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return first, following - dt.timedelta(days=1)


def _depth(obj: Listed) -> int:
    return obj.key.count("/") + 1


def _by_key(obj: Listed) -> str:
    return obj.key


def _by_time(obj: Listed) -> tuple[dt.datetime, str]:
    return obj.modified, obj.key
