"""The state machine of a committee's authority to evaluate (analysis §3, §5): every (state, decision) pair."""

from __future__ import annotations

from datetime import date

import pytest

from app.rules import authority as rules
from app.rules.authority import ACTIVE, REVOKED, SUSPENDED, WARNED

# state -> {decision: next state, or None when the decision is refused}
TABLE = {
    ACTIVE: {"warn": WARNED, "rectify": WARNED, "suspend": SUSPENDED, "revoke": REVOKED, "restore": None},
    WARNED: {"warn": None, "rectify": WARNED, "suspend": SUSPENDED, "revoke": REVOKED, "restore": ACTIVE},
    SUSPENDED: {"warn": None, "rectify": None, "suspend": None, "revoke": REVOKED, "restore": ACTIVE},
    REVOKED: {"warn": None, "rectify": None, "suspend": None, "revoke": None, "restore": None},
}
PAIRS = [(state, decision, to) for state, row in TABLE.items() for decision, to in row.items()]


def test_the_table_covers_every_pair():
    assert set(TABLE) == set(rules.STATES)
    assert all(set(row) == set(rules.DECISIONS) for row in TABLE.values())
    assert len(PAIRS) == len(rules.STATES) * len(rules.DECISIONS) == 20


@pytest.mark.parametrize(("state", "decision", "to"), [p for p in PAIRS if p[2] is not None])
def test_allowed_transition(state, decision, to):
    assert rules.next_state(state, decision) == to
    assert decision in rules.allowed_decisions(state)


@pytest.mark.parametrize(("state", "decision"), [p[:2] for p in PAIRS if p[2] is None])
def test_refused_transition(state, decision):
    with pytest.raises(ValueError) as info:
        rules.next_state(state, decision)
    message = str(info.value)
    assert decision not in rules.allowed_decisions(state)
    if state == REVOKED:
        assert message == "该评委会的评审权已被取消，不能再作出任何决定"
    else:
        assert f"评审权当前为“{rules.STATE_LABELS[state]}”" in message
        assert f"不能作出“{rules.DECISION_LABELS[decision]}”决定" in message


@pytest.mark.parametrize(("state", "expected"), [
    (ACTIVE, ["warn", "rectify", "suspend", "revoke"]),
    (WARNED, ["rectify", "suspend", "revoke", "restore"]),
    (SUSPENDED, ["revoke", "restore"]),
    (REVOKED, []),
])
def test_allowed_decisions(state, expected):
    assert rules.allowed_decisions(state) == expected


@pytest.mark.parametrize(("state", "blocked"), [(ACTIVE, False), (WARNED, False), (SUSPENDED, True), (REVOKED, True)])
def test_blocks(state, blocked):
    assert rules.blocks(state) is blocked


def test_unknown_state_and_decision():
    with pytest.raises(ValueError, match="未知的评审权状态"):
        rules.next_state("PAUSED", "warn")
    with pytest.raises(ValueError, match="未知的决定类型：pardon"):
        rules.next_state(ACTIVE, "pardon")
    with pytest.raises(ValueError, match="未知的评审权状态"):
        rules.allowed_decisions("")
    with pytest.raises(ValueError, match="未知的评审权状态"):
        rules.blocks("PAUSED")


def test_labels_are_chinese_and_complete():
    assert rules.STATE_LABELS == {ACTIVE: "正常", WARNED: "告诫、责令整改中", SUSPENDED: "暂停评审权",
                                  REVOKED: "取消评审权"}
    assert rules.DECISION_LABELS == {"warn": "告诫", "rectify": "责令整改", "suspend": "暂停评审权",
                                     "revoke": "取消评审权", "restore": "恢复"}
    assert rules.decision_label("restore", WARNED) == "恢复（整改到位）"
    assert rules.decision_label("restore", SUSPENDED) == "恢复（解除暂停）"
    assert rules.decision_label("warn", ACTIVE) == "告诫"


def test_blocked_sentence():
    assert rules.blocked_sentence(SUSPENDED, date(2023, 4, 20), "丽人社〔2023〕5号", "评审程序不规范。") == (
        "该评委会已于2023年4月20日被暂停评审权（丽人社〔2023〕5号）：评审程序不规范，暂停期间不能组织评审或受理申报")
    assert rules.blocked_sentence(REVOKED, date(2023, 6, 1), "莲人社〔2023〕3号", "整改不到位") == (
        "该评委会已于2023年6月1日被取消评审权（莲人社〔2023〕3号）：整改不到位，不能再组织评审或受理申报")
    assert rules.blocked_sentence(SUSPENDED) == "该评委会已被暂停评审权，暂停期间不能组织评审或受理申报"
    assert rules.blocked_sentence(ACTIVE, date(2023, 4, 20), "x", "y") is None
    assert rules.blocked_sentence(WARNED) is None
