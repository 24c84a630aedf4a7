"""The public 公示 pages and the objections (异议) the public raises during them.

A notice shows exactly the 附件4-3 columns (D12) of the people it lists; nothing else of their
case data (ID number, phone, …) ever leaves the case. An objection is stored first, then
delivered to the applicant's case as the BPMN message `objection_received`; if the case no
longer waits for one, the objection stays open and is reported, never lost.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import IO, Any

from flask import current_app
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import Document, Objection, ProcessInstance, PublicNotice, SessionEntry, User
from app.services import audit, calendar, cases, documents, messages
from app.services.errors import DomainError, FormInvalid, NotAllowed, NotFound, RuleViolation
from app.services.review_sessions import NOTICE_TITLES

KIND_LABELS = NOTICE_TITLES  # pre_review: 评前公示, post_review: 评后公示
TITLE_HEADERS = {"pre_review": "申报资格名称", "post_review": "评审通过资格名称"}
STATUS_LABELS = {"open": "待处理", "concluded": "已处理"}
CONCLUSION_LABELS = {"unfounded": "不属实", "substantiated": "属实（取消评审通过资格）",
                     "fraud": "属实，弄虚作假（一票否决）"}
RECENT_DAYS = 30
MAX_EVIDENCE = 5
MESSAGE = "objection_received"

PHONE = re.compile(r"^[\d\s+\-]+$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


# -- notices -----------------------------------------------------------------------------------
def is_open(notice: PublicNotice, today: date) -> bool:
    return notice.starts_on <= today <= notice.ends_on


def is_published(notice: PublicNotice, today: date) -> bool:
    """A notice's list is public from its first day on (not before)."""
    return notice.starts_on <= today


def current_and_recent(today: date) -> list[PublicNotice]:
    """Notices open today, then those ended within the last 30 days; newest first within each."""
    found = db.session.scalars(
        select(PublicNotice)
        .where(PublicNotice.starts_on <= today, PublicNotice.ends_on >= today - timedelta(days=RECENT_DAYS))
        .order_by(PublicNotice.starts_on.desc(), PublicNotice.id.desc())
    ).all()
    return [n for n in found if is_open(n, today)] + [n for n in found if not is_open(n, today)]


def get_notice(notice_id: int) -> PublicNotice:
    notice = db.session.get(PublicNotice, notice_id)
    if notice is None:
        raise NotFound("公示不存在")
    return notice


def columns(notice: PublicNotice) -> list[str]:
    """The D12 column headers; the title column reads 申报… before the review, 评审通过… after it."""
    return ["序号", "姓名", "工作单位", "现从事专业", TITLE_HEADERS.get(notice.kind, "资格名称"), "级别",
            "申报方式", "最高学历"]


def _listed(notice: PublicNotice) -> list[SessionEntry]:
    ids = [int(i) for i in notice.entry_ids or []]
    found = {e.id: e for e in db.session.scalars(select(SessionEntry).where(SessionEntry.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


def rows(notice: PublicNotice) -> list[dict[str, Any]]:
    """One dict per listed entry, keyed by `columns(notice)`, plus `entry_id` for the objection form."""
    headers = columns(notice)
    out = []
    for position, entry in enumerate(_listed(notice), start=1):
        values = [position, entry.name, entry.employer, entry.specialty, entry.target_title, entry.level,
                  entry.application_mode, entry.education]
        out.append({**dict(zip(headers, values, strict=True)), "entry_id": entry.id})
    return out


# -- objections --------------------------------------------------------------------------------
def receipt_number(objection: Objection) -> str:
    return f"YY{clock.to_local(objection.received_at):%Y%m%d}{objection.id:06d}"


def get_objection(notice_id: int, objection_id: int) -> Objection:
    objection = db.session.get(Objection, objection_id)
    if objection is None or objection.notice_id != notice_id:
        raise NotFound("异议记录不存在")
    return objection


def _check_period(notice: PublicNotice, today: date) -> None:
    if today < notice.starts_on:
        raise RuleViolation(f"公示尚未开始（{notice.starts_on.isoformat()}起），暂不受理异议")
    if today > notice.ends_on:
        raise RuleViolation(f"公示期已结束（{notice.starts_on.isoformat()}至{notice.ends_on.isoformat()}），"
                            "不再受理异议")


def _contact_ok(contact: str) -> bool:
    if "@" in contact:
        return bool(EMAIL.match(contact))
    digits = sum(c.isdigit() for c in contact)
    return bool(PHONE.match(contact)) and 7 <= digits <= 20


def _entry_listed(notice: PublicNotice, entry_id: Any) -> SessionEntry | None:
    try:
        wanted = int(entry_id)
    except (TypeError, ValueError):
        return None
    if wanted not in [int(i) for i in notice.entry_ids or []]:
        return None
    return db.session.get(SessionEntry, wanted)


def _field_errors(name: str, contact: str, content: str, evidence: list[tuple[str, IO[bytes]]],
                  entry: SessionEntry | None) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    if entry is None:
        fields["entry"] = ["请从公示名单中选择反映对象"]
    if not 2 <= len(name) <= 40:
        fields["objector_name"] = ["请填写反映人真实姓名（实名，2–40 字）"]
    if not contact:
        fields["objector_contact"] = ["请填写联系方式（电话或电子邮箱）"]
    elif len(contact) > 100 or not _contact_ok(contact):
        fields["objector_contact"] = ["联系方式应为电话号码（7–20 位数字，可含 -、+ 和空格）或电子邮箱地址"]
    if not content:
        fields["content"] = ["请填写反映的问题"]
    elif not 10 <= len(content) <= 2000:
        fields["content"] = [f"反映的问题应为 10–2000 字（现为 {len(content)} 字）"]
    problems = []
    if len(evidence) > MAX_EVIDENCE:
        problems.append(f"证明材料最多 {MAX_EVIDENCE} 个文件（现为 {len(evidence)} 个）")
    for filename, _stream in evidence:
        if Path(filename or "").suffix.lower() not in documents.ALLOWED:
            problems.append(f"{Path(filename or '').name or '未命名文件'}：只接受 PDF、PNG、JPG 文件")
    if problems:
        fields["evidence"] = problems
    return fields


def _discard_evidence(ids: list[str]) -> None:
    """Delete this request's evidence uploads (a member of the public's: no owner, no case yet)."""
    db.session.rollback()
    documents.discard(None, ids)


def _store_evidence(evidence: list[tuple[str, IO[bytes]]]) -> list[str]:
    """Store every file or none: a refused file discards the ones stored before it."""
    stored: list[str] = []
    try:
        for filename, stream in evidence:
            try:
                doc = documents.upload(None, filename, stream, kind="objection_evidence", audience="officials")
            except FormInvalid as exc:
                errors = [f"{Path(filename).name}：{m}" for errs in exc.fields.values() for m in errs]
                raise FormInvalid("证明材料有误，请按提示修改", {"evidence": errors or [exc.message]}) from exc
            stored.append(doc.id)
    except Exception:
        _discard_evidence(stored)
        raise
    return stored


def submit_objection(notice_id: int, entry_id: int | str | None, objector_name: str, objector_contact: str,
                     content: str, evidence: list[tuple[str, IO[bytes]]]) -> Objection:
    """Record an objection to a listed applicant during the notice period and tell their case."""
    notice = get_notice(notice_id)
    today = clock.today()
    _check_period(notice, today)
    name, contact, content = (objector_name or "").strip(), (objector_contact or "").strip(), (content or "").strip()
    entry = _entry_listed(notice, entry_id)
    fields = _field_errors(name, contact, content, evidence, entry)
    if fields:
        raise FormInvalid("异议内容填写有误，请按提示修改", fields)
    assert entry is not None
    stored = _store_evidence(evidence)
    try:
        objection = _create(notice, entry, name, contact, content, stored, today)
    except Exception:
        _discard_evidence(stored)
        raise
    _deliver(objection)
    return objection


def _create(notice: PublicNotice, entry: SessionEntry, name: str, contact: str, content: str,
            evidence: list[str], today: date) -> Objection:
    days = int(current_app.config["OBJECTION_WORKING_DAYS"])
    objection = Objection(
        notice_id=notice.id, entry_id=entry.id, application_instance_id=entry.application_instance_id,
        session_instance_id=entry.session_instance_id, received_at=clock.now(), objector_name=name,
        objector_contact=contact, content=content, evidence=list(evidence), status="open",
        due_on=calendar.add_working_days(today, days).date,
        report_to=str((entry.session.data or {}).get("supervising_hr") or ""))
    db.session.add(objection)
    for doc in db.session.scalars(select(Document).where(Document.id.in_(evidence))):
        doc.instance_id = entry.application_instance_id
    db.session.flush()
    # Neither the objector's contact nor the content goes into the audit trail.
    audit.record("objection_received", instance=entry.application, details={
        "objection_id": objection.id, "notice_id": notice.id, "notice_kind": notice.kind,
        "entry_id": entry.id, "evidence_count": len(evidence), "due_on": objection.due_on.isoformat()})
    db.session.commit()
    return objection


def _deliver(objection: Objection) -> bool:
    """Hand the objection to the case; an undelivered one stays open and is recorded as such."""
    app_id = objection.application_instance_id
    if messages.matching(MESSAGE, {"instance_id": app_id}):
        try:
            if messages.deliver_to(app_id, MESSAGE, {"objection_id": objection.id}, actor=None) is not None:
                cases.commit()
                return True
            reason = "申报案件未在受理异议（可能已办结或终止）"
        except DomainError as exc:  # e.g. the case is being saved by someone else right now
            db.session.rollback()
            reason = exc.message
    else:
        reason = "申报案件未在受理异议（可能已办结或终止）"
    audit.record("objection_undelivered", instance=db.session.get(ProcessInstance, app_id),
                 details={"objection_id": objection.id, "reason": reason})
    db.session.commit()
    return False


def reports_for(actor: User) -> list[Objection]:
    """The objections reported to the actor's HR bureau(s) (DT-07), newest first."""
    orgs = {r.org.name for r in actor.roles if r.role == "hr_staff"}
    if not orgs:
        raise NotAllowed("只有人力社保部门工作人员可以查看异议报告")
    return list(db.session.scalars(
        select(Objection).where(Objection.report_to.in_(sorted(orgs)))
        .order_by(Objection.received_at.desc(), Objection.id.desc())))
