"""JSON-lines files that survive a writer killed mid-line (the outbox, deliveries, event logs).

An append is one `write` of a whole line, but kill -9 or a full disk can still leave the last line
cut short. Such a line is skipped, named by file and line number in a warning and in
`JsonLines.torn`, and never fails the reader: the record it held was never acknowledged, so the
writer's re-run writes it again. The next append starts on a fresh line, so a torn tail never
swallows the record written after it.
"""

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LOGGER = logging.getLogger("finops_assets.ledger")
_WARNED: set[tuple[Path, int, str]] = set()  # each torn line is warned about once per process


@dataclass(frozen=True)
class TornLine:
    """A line that could not be read: which file, which line (1-based), why, and its first bytes."""

    path: Path
    line: int
    reason: str
    head: str

    def describe(self) -> str:
        """`file:line: reason`, the form a warning and the asset metadata show."""
        return f"{self.path}:{self.line}: {self.reason} (skipped; starts {self.head!r})"


@dataclass
class JsonLines:
    """The readable records of a JSON-lines file and the lines that were skipped."""

    records: list[dict[str, Any]] = field(default_factory=list)
    torn: list[TornLine] = field(default_factory=list)


def read_json_lines(path: Path) -> JsonLines:
    """Every JSON object line of `path` (none if it does not exist); torn lines are reported."""
    result = JsonLines()
    if not path.exists():
        return result
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError) as error:
                reason = f"not valid JSON ({error.__class__.__name__}: {error})"
                result.torn.append(_torn(path, number, reason, raw))
                continue
            if not isinstance(record, dict):
                result.torn.append(_torn(path, number, "not a JSON object", raw))
                continue
            result.records.append(record)
    return result


def _torn(path: Path, line: int, reason: str, raw: bytes) -> TornLine:
    torn = TornLine(path, line, reason, raw[:40].decode("utf-8", errors="replace").rstrip("\n"))
    if (path, line, torn.head) not in _WARNED:
        _WARNED.add((path, line, torn.head))
        LOGGER.warning("torn ledger line %s", torn.describe())
    return torn


def append_json_line(path: Path, record: dict[str, Any]) -> None:
    """Append one record as a line; if the file ends in a torn line, start a new line first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"
    with path.open("ab") as handle:
        if handle.tell() > 0 and not _ends_with_newline(path):
            line = "\n" + line
        handle.write(line.encode("utf-8"))


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(-1, 2)
        return handle.read(1) == b"\n"
