"""What an allocation read, as a content fingerprint, and why two allocations of a day differ.

The fingerprint of one day's inputs has three parts, each a digest of the rows' content that
does not depend on row order or on how the rows were chunked:

- `normalized`: the normalized rows as billed (keys, dimensions, billing-currency amounts);
- `fx`: their base-currency amounts (what an FX rate change moves);
- `usage`: the day's Kubernetes usage (the k8s drivers' input) and driver file rows (split_by file).

Two allocations with the same fingerprint and rule version are the same allocation: the
ledger recognises an identical re-run by it. The parts that differ name the cause of a change.
"""

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import polars as pl

from finops_assets.domain.allocate import BASE_MONEY_COLUMNS, INPUT_COLUMNS

FX_COLUMNS = ("x_source_row_key", "x_base_currency", *BASE_MONEY_COLUMNS)
BILLED_COLUMNS = tuple(c for c in INPUT_COLUMNS if c not in FX_COLUMNS or c == "x_source_row_key")
_SEEDS = {"seed": 11, "seed_1": 23, "seed_2": 37, "seed_3": 41}
_LOW = (1 << 32) - 1

INITIAL = "initial"  # the day's first allocation
RULE_CHANGE = "rule_change"  # another rule version
RESTATEMENT = "restatement"  # the day's normalized rows (or usage) changed
FX_CHANGE = "fx_change"  # only the base-currency amounts changed
REALLOCATION = "reallocation"  # same inputs and rules, different result (e.g. new code)
CAUSES = (INITIAL, RULE_CHANGE, RESTATEMENT, FX_CHANGE, REALLOCATION)


@dataclass(frozen=True)
class Digest:
    """Rows and the sums of their 64-bit row hashes' halves: additive over chunks."""

    rows: int = 0
    high: int = 0
    low: int = 0

    def __add__(self, other: "Digest") -> "Digest":
        return Digest(self.rows + other.rows, self.high + other.high, self.low + other.low)

    def text(self) -> str:
        """16 hex digits naming the content (order- and chunk-independent)."""
        raw = f"{self.rows}:{self.high}:{self.low}".encode()
        return hashlib.sha256(raw).hexdigest()[:16]


def frame_digest(frame: pl.DataFrame, columns: Sequence[str] | None = None) -> Digest:
    """The Digest of `columns` (all by default) of a frame's rows."""
    if frame.is_empty():
        return Digest()
    hashes = frame.select(list(columns or frame.columns)).hash_rows(**_SEEDS).to_frame("h")
    # Sums of the 32-bit halves cannot overflow 64 bits below 2**32 rows.
    high, low = hashes.select(
        (pl.col("h") // (_LOW + 1)).sum().alias("high"), (pl.col("h") & _LOW).sum().alias("low")
    ).row(0)
    return Digest(frame.height, int(high), int(low))


@dataclass
class InputDigest:
    """The running fingerprint of a day's normalized rows, fed chunk by chunk, and its usage."""

    normalized: Digest = Digest()
    fx: Digest = Digest()
    usage: Digest = Digest()

    def add_normalized(self, frame: pl.DataFrame) -> None:
        self.normalized += frame_digest(frame, [c for c in BILLED_COLUMNS if c in frame.columns])
        self.fx += frame_digest(frame, [c for c in FX_COLUMNS if c in frame.columns])

    def add_usage(self, frame: pl.DataFrame | None) -> None:
        if frame is not None:
            self.usage += frame_digest(frame)

    def version(self) -> "InputVersion":
        return InputVersion(self.normalized.text(), self.fx.text(), self.usage.text())


@dataclass(frozen=True)
class InputVersion:
    """The fingerprint of one allocation's inputs; text form `n=...;fx=...;u=...`."""

    normalized: str
    fx: str
    usage: str

    def text(self) -> str:
        return f"n={self.normalized};fx={self.fx};u={self.usage}"

    @staticmethod
    def parse(text: str | None) -> "InputVersion | None":
        """The version written by text(); None for null or unrecognised text (older records)."""
        parts = dict(p.split("=", 1) for p in (text or "").split(";") if "=" in p)
        if set(parts) != {"n", "fx", "u"}:
            return None
        return InputVersion(parts["n"], parts["fx"], parts["u"])


def input_version(
    normalized: Iterable[pl.DataFrame],
    usage: pl.DataFrame | None,
    drivers: pl.DataFrame | None = None,
) -> InputVersion:
    """The InputVersion of a day given as normalized chunks (one frame or several), usage and
    driver-file rows (usage too), as allocate_day records it."""
    digest = InputDigest()
    for chunk in normalized:
        digest.add_normalized(chunk)
    digest.add_usage(usage)
    digest.add_usage(drivers)
    return digest.version()


def change_causes(
    rules_before: str | None,
    inputs_before: str | None,
    rules_after: str | None,
    inputs_after: str | None,
) -> list[str]:
    """Why a day's allocation changed between two ledger states (empty: it did not)."""
    if rules_before is None and inputs_before is None:
        return [INITIAL]
    causes = [RULE_CHANGE] if rules_before != rules_after else []
    old, new = InputVersion.parse(inputs_before), InputVersion.parse(inputs_after)
    if old is None or new is None:  # an older record without a fingerprint: amounts decide
        return causes
    if old.normalized != new.normalized or old.usage != new.usage:
        causes.append(RESTATEMENT)
    elif old.fx != new.fx:
        causes.append(FX_CHANGE)
    return causes
