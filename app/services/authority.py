"""评审权管理: a committee's authority to evaluate, changed only by recorded decisions.

The committee's supervising bureau (`county_hr(location)`; 市本级 → the city bureau) or the city
bureau decides; a system administrator may record a decision on the supervising bureau's behalf.
Each decision gets a document number of the deciding bureau (莲人社〔2023〕1号) and an audit event.
The session-opening and application-routing code asks `blocked_reason` before going on.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import String, cast, select

from app import clock
from app.extensions import db
from app.models import AuthorityDecision, Committee, Document, User
from app.rules import authority as rules
from app.rules.title import CITY_HR, county_hr
from app.services import audit, numbering
from app.services import documents as stored_documents  # `documents` is decide()'s argument
from app.services.errors import FormInvalid, NotAllowed, NotFound

REASON_MIN, REASON_MAX, MAX_DOCUMENTS = 4, 2000, 20
OVERSIGHT_ROLES = ("manager", "system_admin")


# -- who ---------------------------------------------------------------------------------------
def _hr_bureaus(actor: User) -> set[str]:
    return {r.org.name for r in actor.roles if r.role == "hr_staff"}


def supervising_bureau(committee: Committee) -> str:
    return county_hr(committee.location)


def deciding_bureau(actor: User, committee: Committee) -> str | None:
    """The bureau in whose name the actor decides for this committee, or None if they may not."""
    bureaus, own = _hr_bureaus(actor), supervising_bureau(committee)
    if own in bureaus:
        return own
    if CITY_HR in bureaus:
        return CITY_HR
    if actor.has_role("system_admin"):
        return own
    return None


def may_decide(actor: User, committee: Committee) -> bool:
    return deciding_bureau(actor, committee) is not None


def require_decider(actor: User, committee: Committee) -> str:
    """The deciding bureau, or NotAllowed."""
    bureau = deciding_bureau(actor, committee)
    if bureau is None:
        raise NotAllowed(f"只有{supervising_bureau(committee)}或{CITY_HR}的工作人员可以对该评委会作出评审权决定")
    return bureau


def may_view(actor: User, committee: Committee) -> bool:
    return actor.has_role(*OVERSIGHT_ROLES) or may_decide(actor, committee)


def _refuse_outsiders(actor: User) -> None:
    if not (actor.has_role(*OVERSIGHT_ROLES) or _hr_bureaus(actor)):
        raise NotAllowed("只有人力社保部门工作人员和监督管理员可以查看评审权管理")


# -- reading -----------------------------------------------------------------------------------
def history(committee_id: int) -> list[AuthorityDecision]:
    """Every decision on the committee, oldest first."""
    return list(db.session.scalars(select(AuthorityDecision).where(AuthorityDecision.committee_id == committee_id)
                                   .order_by(AuthorityDecision.decided_on, AuthorityDecision.id)))


def last_decision(committee_id: int) -> AuthorityDecision | None:
    return db.session.scalar(select(AuthorityDecision).where(AuthorityDecision.committee_id == committee_id)
                             .order_by(AuthorityDecision.decided_on.desc(), AuthorityDecision.id.desc()).limit(1))


def _last_decisions(committee_ids: Iterable[int]) -> dict[int, AuthorityDecision]:
    last: dict[int, AuthorityDecision] = {}
    ids = list(committee_ids)
    if not ids:
        return last
    for d in db.session.scalars(select(AuthorityDecision).where(AuthorityDecision.committee_id.in_(ids))
                                .order_by(AuthorityDecision.decided_on, AuthorityDecision.id)):
        last[d.committee_id] = d
    return last


def committees_overview(actor: User) -> list[tuple[Committee, AuthorityDecision | None]]:
    """The committees the actor oversees (HR staff: those they may decide for; managers and
    administrators: all), each with its latest decision."""
    _refuse_outsiders(actor)
    committees = [c for c in db.session.scalars(select(Committee).order_by(Committee.id)) if may_view(actor, c)]
    last = _last_decisions(c.id for c in committees)
    return [(c, last.get(c.id)) for c in committees]


def committee_for(actor: User, committee_id: int) -> Committee:
    """The committee, if the actor may see its authority page."""
    _refuse_outsiders(actor)
    committee = db.session.get(Committee, committee_id)
    if committee is None:
        raise NotFound("评委会不存在")
    if not may_view(actor, committee):
        raise NotAllowed(f"该评委会由{supervising_bureau(committee)}监督，您无权查看其评审权")
    return committee


def blocked_reason(committee: Committee) -> str | None:
    """Why the committee may not organise reviews or accept applications now, or None.

    e.g. 该评委会已于2023年4月20日被暂停评审权（丽人社〔2023〕5号）：……，暂停期间不能组织评审或受理申报
    """
    state = committee.authority_state or rules.ACTIVE
    if not rules.blocks(state):
        return None
    last = last_decision(committee.id)
    if last is None or last.to_state != state:  # a state set without a recorded decision
        return rules.blocked_sentence(state)
    return rules.blocked_sentence(state, last.decided_on, last.doc_no, last.reason)


def documents_of(decisions: Iterable[AuthorityDecision]) -> dict[str, Document]:
    ids = {i for d in decisions for i in (d.documents or [])}
    if not ids:
        return {}
    return {doc.id: doc for doc in db.session.scalars(select(Document).where(Document.id.in_(ids)))}


def decision_document(actor: User, doc_id: str) -> tuple[Document, bytes]:
    """A document of a decision, for whoever may see that committee's authority page (or its uploader)."""
    doc = db.session.get(Document, doc_id)
    decisions = [d for d in db.session.scalars(select(AuthorityDecision).where(
        cast(AuthorityDecision.documents, String).contains(doc_id))) if doc_id in (d.documents or [])]
    if doc is None or not decisions:
        raise NotFound("文件不存在")
    if not (doc.uploaded_by_id == actor.id or any(may_view(actor, d.committee) for d in decisions)):
        raise NotAllowed("您无权查看该文件")
    return doc, stored_documents.content_of(doc)


# -- deciding ----------------------------------------------------------------------------------
def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _decided_on(value: Any, previous: AuthorityDecision | None, errors: dict[str, list[str]]) -> date | None:
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        raw = _text(value)
        if not raw:
            errors["decided_on"] = ["请填写决定日期"]
            return None
        try:
            value = date.fromisoformat(raw)
        except ValueError:
            errors["decided_on"] = ["日期格式应为 年-月-日，如 2023-04-20"]
            return None
    if value > clock.today():
        errors["decided_on"] = ["决定日期不能晚于今天"]
    elif previous is not None and value < previous.decided_on:
        errors["decided_on"] = [f"决定日期不能早于上一次决定的日期（{rules.chinese_date(previous.decided_on)}）"]
    return value


def _document_ids(actor: User, value: Any, errors: dict[str, list[str]]) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(i, str) for i in value):
        errors["documents"] = ["文件应为文件编号列表"]
        return []
    ids = list(dict.fromkeys(i.strip() for i in value if i.strip()))
    if len(ids) > MAX_DOCUMENTS:
        errors["documents"] = [f"每项决定最多 {MAX_DOCUMENTS} 份文件"]
        return ids
    try:
        stored_documents.check_owned(actor, ids, field="documents")
    except FormInvalid as exc:
        errors.update(exc.fields)
    return ids


def _check(actor: User, committee: Committee, decision: Any, reason: Any, decided_on: Any,
           document_ids: Any) -> tuple[str, str, date, list[str]]:
    """The next state, the cleaned reason, date and document ids; or FormInvalid naming every bad field."""
    errors: dict[str, list[str]] = {}
    state = committee.authority_state or rules.ACTIVE
    to_state = ""
    decision = _text(decision)
    if not decision:
        errors["decision"] = ["请选择决定类型"]
    else:
        try:
            to_state = rules.next_state(state, decision)
        except ValueError as exc:
            errors["decision"] = [str(exc)]
    text = _text(reason)
    if not text:
        errors["reason"] = ["请填写决定理由"]
    elif len(text) < REASON_MIN:
        errors["reason"] = [f"决定理由至少 {REASON_MIN} 个字"]
    elif len(text) > REASON_MAX:
        errors["reason"] = [f"决定理由不得超过 {REASON_MAX} 字"]
    day = _decided_on(decided_on, last_decision(committee.id), errors)
    ids = _document_ids(actor, document_ids, errors)
    if errors:
        raise FormInvalid("评审权决定填写有误，请按提示修改", errors)
    return to_state, text, day, ids


def _committee(actor: User, committee_id: int, *, lock: bool) -> tuple[Committee, str]:
    query = select(Committee).where(Committee.id == committee_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    committee = db.session.scalar(query)
    if committee is None:
        raise NotFound("评委会不存在")
    return committee, require_decider(actor, committee)


def check_decision(actor: User, committee_id: int, decision: Any, reason: Any, decided_on: Any,
                   document_ids: Any) -> None:
    """Validate without recording (a form whose uploads were refused still reports every field)."""
    committee, _ = _committee(actor, committee_id, lock=False)
    _check(actor, committee, decision, reason, decided_on, document_ids)


def decide(actor: User, committee_id: int, decision: str, reason: str, decided_on: date | str,
           documents: list[str]) -> AuthorityDecision:
    """Record a decision on the committee's authority, move its state, number it; one commit."""
    try:
        committee, bureau = _committee(actor, committee_id, lock=True)
        from_state = committee.authority_state or rules.ACTIVE
        to_state, text, day, ids = _check(actor, committee, decision, reason, decided_on, documents)
    except (FormInvalid, NotAllowed, NotFound):
        db.session.rollback()  # release the row lock now
        raise
    record = AuthorityDecision(
        committee_id=committee.id, decision=decision.strip(), from_state=from_state, to_state=to_state,
        reason=text, documents=ids, decided_on=day, decided_by_id=actor.id, created_at=clock.now(),
        doc_no=numbering.allocate(numbering.hr_prefix(bureau), day.year))
    db.session.add(record)
    committee.authority_state = to_state
    db.session.flush()
    audit.record("authority_decision", actor=actor, details={
        "decision_id": record.id, "committee_id": committee.id, "committee": committee.name,
        "decision": record.decision, "name": rules.decision_label(record.decision, from_state),
        "from_state": from_state, "to_state": to_state, "decided_on": day.isoformat(),
        "doc_no": record.doc_no, "bureau": bureau, "documents": ids})
    db.session.commit()
    return record

