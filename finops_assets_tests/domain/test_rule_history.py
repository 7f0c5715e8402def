"""Effective-dated rule versions: which version applies to which charge day."""

import datetime as dt

import pytest

from finops_assets.domain.rule_history import (
    history_rows,
    load_rule_history,
    load_version_json,
    version_for_day,
    version_windows,
)
from finops_assets.domain.rules import SHIPPED_RULES_PATH, RulesError, load_rules
from finops_assets_tests.allocate.rules_change import bumped_rules_text, history_text

SHIPPED = SHIPPED_RULES_PATH.read_text(encoding="utf-8")
BUMPED = bumped_rules_text()
OLD, NEW = load_rules(SHIPPED).data_version, load_rules(BUMPED).data_version
DAYS = [dt.date(2026, 10, 1) + dt.timedelta(days=n) for n in range(10)]


def _applied(text: str) -> dict[dt.date, str]:
    history = load_rule_history(text)
    return {day: history.applicable(day).rules.data_version for day in DAYS}


def test_a_single_version_file_applies_to_every_day_with_its_old_data_version():
    history = load_rule_history(SHIPPED)
    assert set(_applied(SHIPPED).values()) == {OLD}
    assert history.versions[0].rules.data_version == OLD  # no re-allocation on upgrade


def test_a_new_version_applies_from_its_effective_from_only():
    text = history_text(
        (SHIPPED, {"effective_from": "2026-01-01"}), (BUMPED, {"effective_from": "2026-10-06"})
    )
    applied = _applied(text)
    assert [d for d in DAYS if applied[d] == NEW] == DAYS[5:]
    assert [d for d in DAYS if applied[d] == OLD] == DAYS[:5]
    # the window is not part of a version's content: the old version keeps its data version
    assert load_rule_history(text).versions[0].rules.data_version == OLD


def test_restate_from_back_dates_a_version_and_needs_a_reason():
    window = {"effective_from": "2026-10-06", "restate_from": "2026-10-03"}
    base = (SHIPPED, {"effective_from": "2026-01-01"})
    with pytest.raises(RulesError, match="reason"):
        load_rule_history(history_text(base, (BUMPED, window)))
    text = history_text(base, (BUMPED, {**window, "reason": "finance ticket FIN-12"}))
    applied = _applied(text)
    assert [d for d in DAYS if applied[d] == NEW] == DAYS[2:]
    assert load_rule_history(text).versions[1].reason == "finance ticket FIN-12"
    late = {**window, "restate_from": "2026-10-07", "reason": "x"}
    with pytest.raises(RulesError, match="must be before its effective_from"):
        load_rule_history(history_text(base, (BUMPED, late)))


def test_a_day_no_version_covers_is_refused_by_name():
    text = history_text(
        (SHIPPED, {"effective_from": "2026-01-01", "effective_to": "2026-10-03"}),
        (BUMPED, {"effective_from": "2026-10-06"}),
    )
    history = load_rule_history(text)
    assert history.applicable(dt.date(2026, 10, 3)).rules.data_version == OLD
    with pytest.raises(RulesError, match="no rule version applies to charge day 2026-10-04"):
        history.applicable(dt.date(2026, 10, 4))


@pytest.mark.parametrize(
    ("windows", "message"),
    [
        (({"effective_from": "2026-10-06"}, {"effective_from": "2026-10-06"}), "must be after"),
        (({"effective_from": "2026-10-06"}, {}), "effective_from"),
        (({"effective_from": "2026-10-06", "effective_to": "2026-10-01"}, None), "is before"),
        (({"effective_from": "6 Oct"}, None), "does not match"),
        (({"effective_form": "2026-10-06"}, None), "did you mean 'effective_from'"),
    ],
)
def test_a_broken_history_names_the_version_and_the_problem(windows, message):
    versions = [(SHIPPED, windows[0])] + ([(BUMPED, windows[1])] if windows[1] is not None else [])
    with pytest.raises(RulesError, match=message):
        load_rule_history(history_text(*versions))


def test_the_same_version_twice_is_refused():
    with pytest.raises(RulesError, match="appears twice"):
        load_rule_history(
            history_text(
                (SHIPPED, {"effective_from": "2026-01-01"}),
                (SHIPPED, {"effective_from": "2026-10-06"}),
            )
        )


def test_unquoted_dates_read_as_days():
    text = history_text((SHIPPED, {}), (BUMPED, {})).replace(
        "\n    business_units", "\n    effective_from: 2026-10-06\n    business_units", 2
    )
    text = text.replace("effective_from: 2026-10-06", "effective_from: 2026-01-01", 1)
    assert [d for d, v in _applied(text).items() if v == NEW] == DAYS[5:]


def test_windows_give_the_same_version_per_day_as_the_history():
    text = history_text(
        (SHIPPED, {"effective_from": "2026-01-01", "effective_to": "2026-10-08"}),
        (BUMPED, {"effective_from": "2026-10-06", "restate_from": "2026-10-04", "reason": "r"}),
    )
    history = load_rule_history(text)
    windows = version_windows(history)
    for day in DAYS:
        expected = [v.rules.data_version for v in history.versions if v.covers(day)][-1]
        assert version_for_day(windows, day) == history.applicable(day).rules.data_version
        assert version_for_day(windows, day) == expected


def test_every_version_is_stored_with_its_window_and_reloads_to_its_data_version():
    text = history_text(
        (SHIPPED, {"effective_from": "2026-01-01"}), (BUMPED, {"effective_from": "2026-10-06"})
    )
    history = load_rule_history(text)
    rows = history_rows(history, text)
    assert rows["data_version"].to_list() == [OLD, NEW]
    assert rows["effective_from"].to_list() == [dt.date(2026, 1, 1), dt.date(2026, 10, 6)]
    assert rows["history_version"].unique().to_list() == [history.data_version]
    for row in rows.iter_rows(named=True):
        assert (
            load_version_json(row["rules_json"], row["data_version"]).data_version
            == row["data_version"]
        )
    # any change of a window is a new history (a new allocation_rules data version)
    moved = text.replace("2026-10-06", "2026-10-07")
    assert load_rule_history(moved).data_version != history.data_version
