"""Effective-dated rule versions: which allocation rules apply to which charge day.

A rules file is either one version or a history, `versions: [...]` oldest first. Each version
applies from its `effective_from` (optional only in a one-version file: then it applies to
every day) until the next version starts or its own `effective_to` (inclusive). A new version
leaves earlier days alone unless it says `restate_from: DAY` with a `reason`: it then also
applies from that earlier day (back-dating). A day no version covers is refused, by name.

The effective window is not part of a version's content hash, so re-dating a version (closing
it with `effective_to`, or the next version starting) never changes what a day that keeps
its version allocates: only days whose applicable version changes are re-allocated.
"""

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

import polars as pl

from finops_assets.domain.rules import (
    AllocationRules,
    RulesError,
    load_rules,
    parse_rules_document,
    rules_from_document,
)
from finops_assets.domain.rules_schema import RulesShapeError, validate_rules_document


@dataclass(frozen=True)
class RuleVersion:
    """One version of the rules with the window of charge days it applies to."""

    rules: AllocationRules
    effective_from: dt.date | None
    effective_to: dt.date | None = None
    restate_from: dt.date | None = None
    reason: str | None = None

    @property
    def applies_from(self) -> dt.date | None:
        """The first day it applies to: restate_from when back-dated, else effective_from."""
        return self.restate_from or self.effective_from

    def covers(self, day: dt.date) -> bool:
        """Whether `day` is inside the version's own window (before later versions)."""
        start, end = self.applies_from, self.effective_to
        return (start is None or start <= day) and (end is None or day <= end)

    def document_json(self) -> str:
        """The version's rules as canonical JSON; load_rules reads it back to the same hash."""
        return self.rules.document_json


@dataclass(frozen=True)
class RuleHistory:
    """Every version of a rules file; `data_version` changes with any version or window."""

    versions: tuple[RuleVersion, ...]
    content_hash: str

    @property
    def version(self) -> str:
        """The newest version's name."""
        return self.versions[-1].rules.version

    @property
    def data_version(self) -> str:
        """The newest version plus the history's hash prefix."""
        return f"{self.version}-{self.content_hash[:12]}"

    def applicable(self, day: dt.date) -> RuleVersion:
        """The version that applies to `day`: the latest one (in file order) covering it."""
        for version in reversed(self.versions):
            if version.covers(day):
                return version
        windows = ", ".join(
            f"{v.rules.version} {v.applies_from or '...'}..{v.effective_to or ''}"
            for v in self.versions
        )
        raise RulesError(f"no rule version applies to charge day {day}; the versions: {windows}")


def _day(raw: object, key: str, version: str) -> dt.date | None:
    if raw is None:
        return None
    try:
        return dt.date.fromisoformat(str(raw))
    except ValueError:
        raise RulesError(f"version {version!r}: {key} {raw!r} is not a day (YYYY-MM-DD)") from None


def _version(doc: dict) -> RuleVersion:
    rules = rules_from_document(doc)
    name = rules.version
    version = RuleVersion(
        rules,
        _day(doc.get("effective_from"), "effective_from", name),
        _day(doc.get("effective_to"), "effective_to", name),
        _day(doc.get("restate_from"), "restate_from", name),
        doc.get("reason"),
    )
    start, end = version.effective_from, version.effective_to
    if version.restate_from and not version.reason:
        raise RulesError(f"version {name!r}: restate_from needs a reason (who asked, and why)")
    if version.restate_from and start and version.restate_from >= start:
        raise RulesError(
            f"version {name!r}: restate_from {version.restate_from} must be before its "
            f"effective_from {start} (it back-dates the version)"
        )
    if end and start and end < start:
        raise RulesError(f"version {name!r}: effective_to {end} is before effective_from {start}")
    return version


def _check_order(versions: list[RuleVersion]) -> None:
    names = [v.rules.version for v in versions]
    for name in names:
        if names.count(name) > 1:
            raise RulesError(f"version {name!r}: appears twice in the history")
    for earlier, later in zip(versions, versions[1:], strict=False):
        if earlier.effective_from is None or later.effective_from is None:
            raise RulesError("every version of a history needs an effective_from")
        if later.effective_from <= earlier.effective_from:
            raise RulesError(
                f"version {later.rules.version!r}: effective_from {later.effective_from} must be "
                f"after that of {earlier.rules.version!r} ({earlier.effective_from}); "
                "list versions oldest first"
            )


def load_rule_history(text: str) -> RuleHistory:
    """Parse and validate a rules file (one version or `versions: [...]`) into its history."""
    doc = parse_rules_document(text)
    try:
        validate_rules_document(doc)
    except RulesShapeError as exc:
        raise RulesError(str(exc)) from None
    documents = doc.get("versions", [doc])
    versions = [_version(d) for d in documents]
    _check_order(versions)
    canonical = json.dumps(
        [
            [v.rules.content_hash, str(v.effective_from), str(v.effective_to)]
            + [str(v.restate_from), v.reason or ""]
            for v in versions
        ]
    )
    return RuleHistory(tuple(versions), hashlib.sha256(canonical.encode()).hexdigest())


def load_version_json(text: str, data_version: str) -> AllocationRules:
    """A stored version's rules (its canonical JSON), checked against its data version."""
    loaded = load_rules(text)
    if loaded.data_version != data_version:
        raise RulesError(f"stored rule version {data_version} parses as {loaded.data_version}")
    return loaded


# The allocation_rules table: one row per version of each materialized history.
RULE_HISTORY_COLUMNS: dict[str, pl.DataType] = {
    "history_version": pl.Utf8(),
    "rules_version": pl.Utf8(),
    "data_version": pl.Utf8(),
    "content_hash": pl.Utf8(),
    "effective_from": pl.Date(),
    "effective_to": pl.Date(),
    "restate_from": pl.Date(),
    "reason": pl.Utf8(),
    "rules_json": pl.Utf8(),
    "history_yaml": pl.Utf8(),
}


WINDOW_COLUMNS = ("effective_from", "effective_to", "restate_from", "reason")


def history_rows(history: RuleHistory, text: str) -> pl.DataFrame:
    """The history as allocation_rules table rows (RULE_HISTORY_COLUMNS), oldest first."""
    return pl.DataFrame(
        [
            {
                "history_version": history.data_version,
                "rules_version": v.rules.version,
                "data_version": v.rules.data_version,
                "content_hash": v.rules.content_hash,
                "effective_from": v.effective_from,
                "effective_to": v.effective_to,
                "restate_from": v.restate_from,
                "reason": v.reason,
                "rules_json": v.document_json(),
                "history_yaml": text,
            }
            for v in history.versions
        ],
        schema=RULE_HISTORY_COLUMNS,
    )


def legacy_history_rows(stored: pl.DataFrame) -> pl.DataFrame:
    """Rows of the allocation_rules table written before effective dates, as history rows.

    Each old row is one materialized rule set (rules_version, data_version, content_hash,
    rules_yaml): it becomes a one-version history without a window, kept under the data
    version Dagster recorded for it, with its YAML text as the history's text.
    """
    return pl.DataFrame(
        [
            {
                "history_version": row["data_version"],
                "rules_version": row["rules_version"],
                "data_version": row["data_version"],
                "content_hash": row["content_hash"],
                "rules_json": load_version_json(
                    row["rules_yaml"], row["data_version"]
                ).document_json,
                "history_yaml": row["rules_yaml"],
            }
            for row in stored.iter_rows(named=True)
        ],
        schema={c: t for c, t in RULE_HISTORY_COLUMNS.items() if c not in WINDOW_COLUMNS},
    ).with_columns(pl.lit(None, RULE_HISTORY_COLUMNS[c]).alias(c) for c in WINDOW_COLUMNS)


def is_legacy_history(history: RuleHistory, data_version: str) -> bool:
    """Whether `data_version` names a rule set stored before effective dates (a one-version
    history kept under its rule set's own data version)."""
    return len(history.versions) == 1 and history.versions[0].rules.data_version == data_version


# The applicable_rules table: per charge day, the version that applies and its window.
APPLICABLE_RULE_COLUMNS: dict[str, pl.DataType] = {
    "x_charge_date": pl.Date(),
    "rules_version": pl.Utf8(),
    "data_version": pl.Utf8(),
    "history_version": pl.Utf8(),
    "applies_from": pl.Date(),
    "effective_to": pl.Date(),
    "restate_from": pl.Date(),
    "reason": pl.Utf8(),
    "rules_json": pl.Utf8(),
}


def applicable_row(history: RuleHistory, day: dt.date) -> pl.DataFrame:
    """The version of `history` applying to `day`, as an applicable_rules row."""
    version = history.applicable(day)
    row = {
        "x_charge_date": day,
        "rules_version": version.rules.version,
        "data_version": version.rules.data_version,
        "history_version": history.data_version,
        "applies_from": version.applies_from,
        "effective_to": version.effective_to,
        "restate_from": version.restate_from,
        "reason": version.reason,
        "rules_json": version.document_json(),
    }
    return pl.DataFrame([row], schema=APPLICABLE_RULE_COLUMNS)


def version_windows(history: RuleHistory) -> list[dict[str, str | None]]:
    """Each version's data version and window as text (oldest first), for version_for_day."""
    return [
        {
            "data_version": v.rules.data_version,
            "applies_from": v.applies_from.isoformat() if v.applies_from else None,
            "effective_to": v.effective_to.isoformat() if v.effective_to else None,
        }
        for v in history.versions
    ]


def version_for_day(windows: list[dict], day: dt.date) -> str | None:
    """The data version applying to `day` from version_windows output (None: no version).

    The same rule as RuleHistory.applicable: the latest version whose own window covers it.
    """
    text = day.isoformat()
    for window in reversed(windows):
        start, end = window.get("applies_from"), window.get("effective_to")
        if (start is None or start <= text) and (end is None or text <= end):
            return window.get("data_version")
    return None
