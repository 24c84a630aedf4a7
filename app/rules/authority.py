"""A committee's authority to evaluate (评审权): states and the decisions that move between them.

Analysis §3 (self-managed units: 告诫 → 责令整改 → 暂停评审权, restored when the rectification shows
clear improvement) and §5 (2021 text for every committee: rectification inadequate or a serious
violation → 暂停 or even 取消评审权限). Suspending straight from ACTIVE is that serious-violation
path; a suspended committee cannot be suspended again, and a revoked authority is final.

Pure: no Flask, no database.
"""

from __future__ import annotations

from datetime import date

ACTIVE, WARNED, SUSPENDED, REVOKED = "ACTIVE", "WARNED", "SUSPENDED", "REVOKED"
STATES = (ACTIVE, WARNED, SUSPENDED, REVOKED)
STATE_LABELS = {
    ACTIVE: "正常",
    WARNED: "告诫、责令整改中",
    SUSPENDED: "暂停评审权",
    REVOKED: "取消评审权",
}

WARN, RECTIFY, SUSPEND, REVOKE, RESTORE = "warn", "rectify", "suspend", "revoke", "restore"
DECISIONS = (WARN, RECTIFY, SUSPEND, REVOKE, RESTORE)
DECISION_LABELS = {
    WARN: "告诫",
    RECTIFY: "责令整改",
    SUSPEND: "暂停评审权",
    REVOKE: "取消评审权",
    RESTORE: "恢复",
}
# What a restore means depends on where it starts.
RESTORE_LABELS = {WARNED: "恢复（整改到位）", SUSPENDED: "恢复（解除暂停）"}

# (state, decision) -> next state; a pair not listed is not allowed.
TRANSITIONS: dict[tuple[str, str], str] = {
    (ACTIVE, WARN): WARNED,
    (ACTIVE, RECTIFY): WARNED,
    (WARNED, RECTIFY): WARNED,
    (ACTIVE, SUSPEND): SUSPENDED,
    (WARNED, SUSPEND): SUSPENDED,
    (ACTIVE, REVOKE): REVOKED,
    (WARNED, REVOKE): REVOKED,
    (SUSPENDED, REVOKE): REVOKED,
    (WARNED, RESTORE): ACTIVE,
    (SUSPENDED, RESTORE): ACTIVE,
}

BLOCKING = frozenset({SUSPENDED, REVOKED})


def _check_state(state: str) -> None:
    if state not in STATES:
        raise ValueError(f"未知的评审权状态：{state}")


def allowed_decisions(state: str) -> list[str]:
    """The decisions that may be taken in this state, in the order of DECISIONS."""
    _check_state(state)
    return [d for d in DECISIONS if (state, d) in TRANSITIONS]


def next_state(state: str, decision: str) -> str:
    """The state after the decision; ValueError (Chinese) when the decision is not allowed here."""
    _check_state(state)
    if decision not in DECISIONS:
        raise ValueError(f"未知的决定类型：{decision}")
    try:
        return TRANSITIONS[(state, decision)]
    except KeyError:
        pass
    if state == REVOKED:
        raise ValueError("该评委会的评审权已被取消，不能再作出任何决定")
    allowed = "、".join(DECISION_LABELS[d] for d in allowed_decisions(state))
    raise ValueError(f"评审权当前为“{STATE_LABELS[state]}”，不能作出“{DECISION_LABELS[decision]}”决定"
                     f"（可作出的决定：{allowed}）")


def blocks(state: str) -> bool:
    """Whether the committee may not organise reviews or accept applications (暂停 or 取消)."""
    _check_state(state)
    return state in BLOCKING


def decision_label(decision: str, from_state: str | None = None) -> str:
    if decision == RESTORE and from_state in RESTORE_LABELS:
        return RESTORE_LABELS[from_state]
    return DECISION_LABELS.get(decision, decision)


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def blocked_sentence(state: str, decided_on: date | None = None, doc_no: str | None = None,
                     reason: str | None = None) -> str | None:
    """Why a blocked committee may not evaluate, for the pages that refuse it; None when not blocked.

    e.g. 该评委会已于2023年4月20日被暂停评审权（丽人社〔2023〕5号）：……，暂停期间不能组织评审或受理申报
    """
    if not blocks(state):
        return None
    verb = "暂停" if state == SUSPENDED else "取消"
    consequence = "暂停期间不能组织评审或受理申报" if state == SUSPENDED else "不能再组织评审或受理申报"
    when = f"已于{chinese_date(decided_on)}" if decided_on is not None else "已"
    number = f"（{doc_no}）" if doc_no else ""
    because = (reason or "").strip().rstrip("。；;，,.")
    because = f"：{because}" if because else ""
    return f"该评委会{when}被{verb}评审权{number}{because}，{consequence}"
