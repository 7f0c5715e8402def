"""The split contract's JSON checks run vectorized and per distinct value, with the same verdicts
as the row-by-row Python definitions (`_ratio_sum`, `_details_ok`, `_tags_disjoint`) they
replace, on canonical texts and on every odd text that must go to Python."""

from decimal import Decimal

import polars as pl
import pytest
from polars.testing import assert_series_equal

from finops_assets.domain import focus_allocation_contract as contract
from finops_assets.domain.focus_allocation import focus_split_rows
from finops_assets_tests.domain.test_focus_allocation import normalized, parts

RATIO = pl.Decimal(38, 18)


def _details(ratio: str, method: str = "proportional", driver: str = "effective_cost") -> str:
    return (
        f'{{"Elements":[{{"AllocatedRatio":{ratio}}}],"x_Method":"{method}",'
        f'"x_Driver":"{driver}","x_RuleVersion":"v1"}}'
    )


DETAILS = [
    _details("0.5"),
    _details("1"),
    _details("0"),
    _details("-0"),
    _details("-0.25"),
    _details("0.333333333333333333"),  # 18 digits: the share's scale
    _details("0.3333333333333333333"),  # 19 digits: not canonical
    _details("99999999999999999999.5"),  # 20 integer digits
    _details("1e-1"),
    _details("1E2"),
    _details("01"),  # not JSON
    _details("1."),  # not JSON
    _details(".5"),  # not JSON
    _details('"0.5"'),  # a string ratio: Decimal("0.5") in Python
    _details("true"),
    _details("null"),
    _details("[0.5]"),
    _details("0.5", method="caf\u00e9"),
    _details("0.5", method='a\\"b'),  # escaped quote: JSON, not canonical
    _details("0.5", method="a\\u0041"),
    _details("0.5", method="a\x01b"),  # raw control character: not JSON
    _details("0.5", method="a\tb"),
    _details("0.5", method='a"b'),  # broken JSON
    _details("0.5", driver=""),
    _details("0.5") + " ",
    " " + _details("0.5"),
    _details("0.5").replace(":", ": "),
    '{"Elements":[{"AllocatedRatio":0.5},{"AllocatedRatio":0.5}],"x_Method":"m"}',
    '{"Elements":[],"x_Method":"m"}',
    '{"Elements":{"AllocatedRatio":1}}',
    '{"Elements":["x"]}',
    '{"Elements":[{"Ratio":1}]}',
    '{"Elements":[{"AllocatedRatio":1}],"Method":"m"}',  # custom key without x_
    '{"Elements":[{"AllocatedRatio":1}]}',
    '{"Elements":[{"AllocatedRatio":1}],"Elements":[{"AllocatedRatio":0.5}]}',
    '{"x_Method":"m"}',
    "not json",
    "[1]",
    '"text"',
    "",
    "{}",
    None,
]


def test_method_details_verdicts_equal_the_row_by_row_definition():
    texts = pl.Series("AllocatedMethodDetails", DETAILS * 3, dtype=pl.Utf8)
    expected = texts.map_elements(contract._details_ok, return_dtype=pl.Boolean)
    assert_series_equal(contract._details_verdicts(texts), expected, check_names=False)


def _outcome(function, texts: pl.Series) -> pl.Series | str:
    try:
        return function(texts)
    except pl.exceptions.PolarsError as error:  # the row-by-row check raised on such a day too
        return type(error).__name__


@pytest.mark.parametrize("text", DETAILS)
def test_ratios_equal_the_row_by_row_definition(text):
    texts = pl.Series("AllocatedMethodDetails", [text, _details("0.5"), text], dtype=pl.Utf8)
    expected = _outcome(lambda t: t.map_elements(contract._ratio_sum, return_dtype=RATIO), texts)
    got = _outcome(contract._ratios, texts)
    if isinstance(expected, str):
        assert got == expected
    else:
        assert isinstance(got, pl.Series)
        assert_series_equal(got, expected, check_names=False)


def test_a_canonical_ratio_is_read_exactly():
    texts = pl.Series([_details("0.333333333333333333"), _details("-0.25"), _details("7")])
    assert contract._ratios(texts).to_list() == [
        Decimal("0.333333333333333333"),
        Decimal("-0.25"),
        7,
    ]


TAGS = [None, "", "{}", '{"team":"search"}', '{"x_BusinessUnit":"a"}', "not json", "[1]"]
ALLOCATED = [None, "", '{"x_BusinessUnit":"search"}', '{"team":"x"}', "{}", "not json", "[]"]


def test_tags_disjoint_verdicts_equal_the_row_by_row_definition():
    pairs = pl.DataFrame(
        [(t, a) for t in TAGS for a in ALLOCATED] * 2,
        schema={"Tags": pl.Utf8, "AllocatedTags": pl.Utf8},
        orient="row",
    )
    both = pl.struct("Tags", "AllocatedTags")
    got = pairs.select(contract.map_distinct(both, contract._tags_disjoint, pl.Boolean()))
    expected = pairs.select(both.map_elements(contract._tags_disjoint, return_dtype=pl.Boolean))
    assert_series_equal(got.to_series(), expected.to_series())


def _big_day(origins: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`origins` charges, each split in three parts with shares of its own."""
    rows = [
        {"x_source_row_key": f"k{i}", "BilledCost": Decimal(3 + i), "EffectiveCost": Decimal(3)}
        for i in range(origins)
    ]
    split = []
    for i in range(origins):
        first = Decimal(i + 1) / Decimal(origins + 2)
        first = first.quantize(Decimal("0.000000000000000001"))
        shares = (first, Decimal("0.1"), 1 - first - Decimal("0.1"))
        billed = Decimal(3 + i)
        money = [(billed * s).quantize(Decimal("0.01")) for s in shares[:2]]
        money.append(billed - sum(money))
        effective = [Decimal("1"), Decimal("1"), Decimal("1")]
        for unit, share, b, e in zip(
            ("a", "b", "unallocated"), shares, money, effective, strict=True
        ):
            split.append((f"k{i}", unit, str(b), str(e), str(share), "proportional", "r"))
    return normalized(*rows), parts(*split)


def test_canonical_days_call_no_python_per_row(monkeypatch: pytest.MonkeyPatch):
    calls = {"ratio": 0, "details": 0, "tags": 0}

    def counted(name, function):
        def wrapper(value):
            calls[name] += 1
            return function(value)

        return wrapper

    monkeypatch.setattr(contract, "_ratio_sum", counted("ratio", contract._ratio_sum))
    monkeypatch.setattr(contract, "_details_ok", counted("details", contract._details_ok))
    monkeypatch.setattr(contract, "_tags_disjoint", counted("tags", contract._tags_disjoint))
    batches = []
    whole = contract._canonical_or_python
    monkeypatch.setattr(contract, "_canonical_or_python", lambda *a: batches.append(1) or whole(*a))
    origins, day_parts = _big_day(300)
    split = focus_split_rows(origins, day_parts)
    assert contract.split_contract_failures(split, origins) == []
    assert calls["ratio"] == calls["details"] == 0  # 900 distinct texts, all canonical
    assert calls["tags"] == 3  # one Tags value x three units
    assert len(batches) == 2  # the ratios and the details, each once per day (not per origin)
    broken = split.with_columns(
        pl.when(pl.col("x_source_row_key") == "k7")
        .then(pl.col("AllocatedMethodDetails").str.replace("0.1", "0.2", literal=True))
        .otherwise(pl.col("AllocatedMethodDetails"))
    )
    failures = contract.split_contract_failures(broken, origins)
    assert {f["check"] for f in failures} == {"ratios_sum_to_one"}
    assert len(failures) == 3  # the three parts of k7
