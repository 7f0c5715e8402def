"""Memoized days: a day whose inputs did not change is not computed again.

A restated billing-period delivery re-runs every day of its period, but most days' rows did not
change, so their raw and normalized data versions (content hashes, storage/fingerprint.py) stay
the same. An asset that opts in (`DayWriter(..., memo=True)`) records on each day's
materialization the hash of what the day was computed from (`inputs_version`):

- the data version of each upstream asset's materialization of that day (of the latest one for
  an unpartitioned upstream such as allocation_rules), and its lineage version where a memoized
  upstream recorded one;
- the asset's logic version (a rule version, a catalog version), its code version, and an
  `extra` text the asset adds for inputs that are not assets (the tag aliases, say);
- the source code of this package and the settings (a hash of each), so a deployment or a
  changed setting computes every day again.

When the hash equals the one on the day's latest materialization, the day is not computed: the
writer records it again with that materialization's data version, metadata and non-blocking
check results (`recomputed: false`), so nothing downstream turns stale and the check history
stays whole. An asset whose day reads earlier days of its upstream assets (month-to-date
budgets, a lookback window) names them (`DayWriter(memo_days=...)`): their data versions are
inputs of the day too, so a changed earlier day computes again every day that reads it. Lineage columns (file names, ingestion keys) are not part of a data
version, so a reused day keeps the lineage of the delivery it was computed from; that delivery
stays in the raw archive. A memoized asset records the hash of its rows' lineage
(`lineage_version`), so when it computes a day again with the same content but a newer lineage
(the restated raw rows), the days below it are computed again too and every stage's row keys
stay the same.
"""

import functools
import hashlib
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext

from finops_assets.dagster_private import DATA_VERSION_TAG
from finops_assets.settings import Settings

INPUTS_KEY = "inputs_version"
RECOMPUTED_KEY = "recomputed"
WARNINGS_KEY = "check_warnings"
LINEAGE_KEY = "lineage_version"
OUTPUT_KEY = "stored_output"
RECOMPUTE_TAG = "finops/recompute"  # a run tagged "true" computes every day (memo bypassed)


def recompute_requested(context: AssetExecutionContext) -> bool:
    """True when the run asks to compute every day again (tag finops/recompute=true)."""
    return str(context.run.tags.get(RECOMPUTE_TAG, "")).lower() == "true"


@dataclass(frozen=True)
class Reused:
    """What a day's latest materialization recorded, to record it again unchanged."""

    data_version: str
    metadata: dict[str, Any]
    warnings: dict[str, list[dict]]


class Lookup:
    """The latest materialization of each day of a run, per asset: two queries per asset."""

    def __init__(self, instance: dg.DagsterInstance, day_keys: list[str]) -> None:
        self._instance = instance
        self._days = set(day_keys)
        self._events: dict[dg.AssetKey, dict[str | None, dg.AssetMaterialization]] = {}

    def latest(self, key: dg.AssetKey, day_key: str) -> dg.AssetMaterialization | None:
        """The day's latest materialization of `key`, or the latest one of an unpartitioned
        asset; None when `key` has none (or none of that day)."""
        if key not in self._events:
            self._events[key] = self._fetch(key)
        events = self._events[key]
        return (
            events.get(day_key) if day_key in events or self.partitioned(key) else events.get(None)
        )

    def partitioned(self, key: dg.AssetKey) -> bool:
        """True when `key`'s materializations name days (after a `latest` of it)."""
        return any(k is not None for k in self._events.get(key, {}))

    def _fetch(self, key: dg.AssetKey) -> dict[str | None, dg.AssetMaterialization]:
        storage = self._instance.event_log_storage
        ids = storage.get_latest_storage_id_by_partition(
            key, dg.DagsterEventType.ASSET_MATERIALIZATION, partitions=self._days
        )
        if ids:
            records_filter = dg.AssetRecordsFilter(asset_key=key, storage_ids=list(ids.values()))
            records = self._instance.fetch_materializations(records_filter, limit=len(ids))
        else:
            records = self._instance.fetch_materializations(key, limit=1)
        found: dict[str | None, dg.AssetMaterialization] = {}
        for record in records.records:
            event = record.asset_materialization
            if event is not None:
                found[event.partition] = event
        return found


def inputs_version(
    context: AssetExecutionContext,
    day_key: str,
    logic: str,
    lookup: Lookup,
    earlier: Sequence[str] = (),
    parents: Collection[str] | None = None,
    own: Sequence[str] = (),
) -> str | None:
    """The hash of everything `day_key` is computed from; None when an input has no version
    (never materialized, or a version Dagster did not record): then the day is computed.

    `earlier`: the other days of its upstream assets the day reads (a month to date, a
    lookback window); their versions are inputs too, an earlier day never materialized
    counting as absent ("-"), so a change to any of them computes the day again. `parents`:
    the upstream assets the day's content is computed from, when not all of them (None: all).
    `own`: the versions of the asset's own earlier days the day reads (budget_events)."""
    asset = context.assets_def
    versions: dict[str, str | list[str]] = {}
    deps = asset.asset_deps[context.asset_key]
    if parents is not None:
        deps = {key for key in deps if key.to_user_string() in parents}
    for parent in sorted(deps, key=lambda k: k.to_user_string()):
        version = version_of(lookup.latest(parent, day_key), day_key)
        if version is None:
            return None
        name = parent.to_user_string()
        versions[name] = version
        if earlier and lookup.partitioned(parent):
            window = [version_of(lookup.latest(parent, d), d) or "-" for d in earlier]
            versions[name] = [version, *window]
    document = {
        "logic": logic,
        "code_version": asset.code_versions_by_key.get(context.asset_key),
        "inputs": versions,
        **({"own": list(own)} if own else {}),
        "package": _package_hash(),
        "settings": hashlib.sha256(repr(Settings.from_env()).encode()).hexdigest(),
    }
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def note_computed(
    metadata: dict[str, Any],
    inputs: str | None,
    warnings: dict[str, list[Any]],
    lineage: str | None,
) -> None:
    """Record on a computed day what the next run compares: the hash of its inputs (None:
    an input had no version), its non-blocking check failures, and its rows' lineage version."""
    if inputs is not None:
        metadata[INPUTS_KEY] = inputs
        metadata[RECOMPUTED_KEY] = True
        metadata[WARNINGS_KEY] = dg.MetadataValue.json(warnings)
    if lineage is not None:  # recomputed rows may carry a newer lineage: downstream follows
        metadata[LINEAGE_KEY] = lineage


def reusable(
    context: AssetExecutionContext, day_key: str, inputs: str, lookup: Lookup
) -> Reused | None:
    """The day's latest materialization when it was computed from `inputs`, else None."""
    event = lookup.latest(context.asset_key, day_key)
    if event is None:
        return None
    metadata = dict(event.metadata)
    recorded = metadata.get(INPUTS_KEY)
    version = (event.tags or {}).get(DATA_VERSION_TAG)
    if version is None or getattr(recorded, "value", None) != inputs:
        return None
    warnings = metadata.get(WARNINGS_KEY)
    return Reused(version, metadata, dict(getattr(warnings, "value", None) or {}))


def version_of(event: dg.AssetMaterialization | None, day_key: str) -> str | None:
    """The data version (and lineage version) of an upstream's materialization of the day, or
    of its latest one when it is not partitioned; None when the day was never materialized."""
    if event is None or (event.partition is not None and event.partition != day_key):
        return None  # a partitioned upstream without that day
    version = (event.tags or {}).get(DATA_VERSION_TAG)
    lineage = getattr(event.metadata.get(LINEAGE_KEY), "value", None)
    return f"{version}/{lineage}" if version and lineage else version


@functools.cache
def _package_hash() -> str:
    """A hash of this package's source files: changed code computes every day again."""
    digest = hashlib.sha256()
    root = Path(__file__).parent
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()
