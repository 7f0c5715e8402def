"""A missing external tool skips its tests, unless FINOPS_TEST_REQUIRE_TOOLS asks for it."""

import pytest

from finops_assets_tests import tools


def _missing(monkeypatch) -> None:
    monkeypatch.setattr(tools, "tool_path", lambda tool: None)


def test_a_missing_tool_skips_with_the_reason(monkeypatch):
    _missing(monkeypatch)
    monkeypatch.delenv("FINOPS_TEST_REQUIRE_TOOLS", raising=False)
    with pytest.raises(pytest.skip.Exception, match="chromium is not installed here"):
        tools.require_tool("chromium")


@pytest.mark.parametrize("value", ["1", "all", "postgresql,chromium"])
def test_a_required_missing_tool_fails(monkeypatch, value):
    _missing(monkeypatch)
    monkeypatch.setenv("FINOPS_TEST_REQUIRE_TOOLS", value)
    with pytest.raises(pytest.fail.Exception, match="FINOPS_TEST_REQUIRE_TOOLS asks for chromium"):
        tools.require_tool("chromium")


def test_only_the_named_tools_are_required(monkeypatch):
    _missing(monkeypatch)
    monkeypatch.setenv("FINOPS_TEST_REQUIRE_TOOLS", "postgresql")
    with pytest.raises(pytest.skip.Exception):
        tools.require_tool("azurite")


def test_a_present_tool_is_found(tmp_path, monkeypatch):
    monkeypatch.setattr(tools, "REPO_ROOT", tmp_path)
    checkov = tmp_path / ".venv-tools/bin/checkov"
    checkov.parent.mkdir(parents=True)
    checkov.write_text("")
    assert tools.require_tool("checkov") == checkov
