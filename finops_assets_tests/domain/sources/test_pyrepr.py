"""Python-repr credits and labels become JSON with numbers kept exactly as written."""

import pytest

from finops_assets.domain.sources.pyrepr import python_repr_as_json


def test_single_quotes_none_and_exponents_become_exact_json():
    text = "[{'name': 'Free \"trial\"', 'amount': -5e-06, 'full_name': None, 'ok': True}]"
    assert python_repr_as_json(text) == (
        '[{"name":"Free \\"trial\\"","amount":-5e-06,"full_name":null,"ok":true}]'
    )


@pytest.mark.parametrize(
    "text",
    ["[{'a': __import__('os')}]", "[{'a': float('nan')}]", "[{'a': 1,}", "{'a' 1}", "'abc' 'd'"],
)
def test_anything_but_a_plain_literal_is_refused(text):
    assert python_repr_as_json(text) is None
