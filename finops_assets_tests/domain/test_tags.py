"""Tag keys: one canonical spelling per key, trimmed values, sorted keys, invalid JSON flagged."""

import json

import polars as pl
import pytest

from finops_assets.domain.reference import load_tag_aliases
from finops_assets.domain.tags import normalize_tag_key, normalize_tags_expr, normalize_tags_text
from finops_assets.sample.estate import COST_CENTER_TAG_SPELLINGS


@pytest.fixture(scope="module")
def aliases() -> dict[str, str]:
    return load_tag_aliases()


@pytest.mark.parametrize(
    "spelling", [*COST_CENTER_TAG_SPELLINGS, "user:CostCenter", "user_cost-center", "Cost Center"]
)
def test_cost_center_spellings_map_to_one_key(aliases, spelling):
    assert normalize_tag_key(spelling, aliases) == "cost_center"


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("Project", "project"),
        ("project", "project"),
        ("Owner", "owner"),
        ("user:Team Name", "team_name"),
        ("Env", "environment"),
    ],
)
def test_other_aliases(aliases, key, expected):
    assert normalize_tag_key(key, aliases) == expected


def test_text_is_canonical_json(aliases):
    text = '{"Project": " apollo ", "user:CostCenter": "cc-1", "zeta": 3, "Owner": "ann"}'
    out = normalize_tags_text(text, aliases)
    assert out == '{"cost_center":"cc-1","owner":"ann","project":"apollo","zeta":"3"}'
    assert list(json.loads(out)) == sorted(json.loads(out))


def test_collisions_are_deterministic(aliases):
    a = normalize_tags_text('{"CostCenter": "", "cost-center": "b"}', aliases)
    b = normalize_tags_text('{"cost-center": "b", "CostCenter": ""}', aliases)
    assert a == b == '{"cost_center":"b"}'


def test_expression_over_a_column(aliases):
    frame = pl.DataFrame(
        {
            "Tags": [
                '{"CostCenter":"1"}',
                None,
                "nope",
                '{"costcenter":"1"}',
                "",
                '[{"key":"Owner","value":"x"}]',
                "[1]",
            ]
        }
    )
    out = frame.select(normalize_tags_expr(pl.col("Tags"), aliases)).to_series().to_list()
    assert out == [
        '{"cost_center":"1"}',
        "{}",
        None,
        '{"cost_center":"1"}',
        "{}",
        '{"owner":"x"}',
        None,
    ]


def test_expression_on_all_null_and_empty_frames(aliases):
    nulls = pl.DataFrame({"Tags": [None, None]}, schema={"Tags": pl.Utf8})
    assert nulls.select(normalize_tags_expr(pl.col("Tags"), aliases)).to_series().to_list() == [
        "{}",
        "{}",
    ]
    empty = pl.DataFrame(schema={"Tags": pl.Utf8})
    assert empty.select(normalize_tags_expr(pl.col("Tags"), aliases)).height == 0
