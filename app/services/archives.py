"""Performance archives (业绩档案): the applicant keeps theirs, their own unit audits it.

An applicant may apply for a title only once the archive is audited (`is_audited`). Any change
to a submitted or audited archive puts it back to draft: it must be submitted and audited again.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import case, func, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from app import clock
from app.extensions import db
from app.models import Achievement, Document, PerformanceArchive, User
from app.services import audit as audit_trail
from app.services import documents
from app.services.archive_scope import audit_org_ids, may_audit
from app.services.errors import Conflict, FormInvalid, NotAllowed, NotFound, RuleViolation

KINDS = ("论文", "著作", "科研项目", "获奖", "专利", "标准规范", "技术报告", "教学成果", "其他")
STATUS_LABELS = {"draft": "未提交", "submitted": "待审核", "audited": "已审核", "returned": "已退回"}
DECISIONS = {"approve": "同意", "return": "退回修改"}
TITLE_MIN, TITLE_MAX, DESCRIPTION_MAX, OPINION_MAX, MAX_ATTACHMENTS = 2, 200, 2000, 2000, 20


# -- reading -----------------------------------------------------------------------------------
def _find(user_id: int) -> PerformanceArchive | None:
    return db.session.scalar(select(PerformanceArchive).where(PerformanceArchive.user_id == user_id))


def archive_for(user: User) -> PerformanceArchive:
    """The user's archive; a draft is created the first time."""
    archive = _find(user.id)
    if archive is not None:
        return archive
    db.session.add(PerformanceArchive(user_id=user.id, status="draft"))
    try:
        db.session.commit()
    except IntegrityError:  # a simultaneous request created it first
        db.session.rollback()
    return _find(user.id)


def achievements_of(user: User) -> list[Achievement]:
    return list(db.session.scalars(select(Achievement).where(Achievement.user_id == user.id)
                                   .order_by(Achievement.achieved_on.desc(), Achievement.id.desc())))


def attachments_of(items: list[Achievement]) -> dict[str, Document]:
    """The documents attached to these achievements, by id."""
    ids = {i for item in items for i in (item.attachments or [])}
    if not ids:
        return {}
    return {d.id: d for d in db.session.scalars(select(Document).where(Document.id.in_(ids)))}


def is_audited(user: User) -> bool:
    archive = _find(user.id)
    return archive is not None and archive.status == "audited"


def summary(user: User) -> dict[str, Any]:
    archive = _find(user.id)
    status = archive.status if archive is not None else "draft"
    kinds = Counter(db.session.scalars(select(Achievement.kind).where(Achievement.user_id == user.id)))
    audited = archive is not None and status == "audited"
    return {
        "status": status,
        "status_label": STATUS_LABELS[status],
        "achievements": sum(kinds.values()),
        "by_kind": {k: kinds[k] for k in KINDS if kinds[k]},
        "submitted_at": _iso(archive.submitted_at) if archive is not None else None,
        "audited_at": _iso(archive.audited_at) if audited else None,
        "audited_by": archive.audited_by.display_name if audited and archive.audited_by else None,
        "updated_at": _iso(archive.updated_at) if archive is not None else None,
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def fingerprint(archive: PerformanceArchive, items: list[Achievement]) -> str:
    """What an auditor saw: the submission and every achievement's content (the clock may be frozen)."""
    content = [_iso(archive.submitted_at), archive.status,
               *([i.id, i.kind, i.title, i.achieved_on.isoformat(), i.description, i.attachments] for i in items)]
    return hashlib.sha256(json.dumps(content, ensure_ascii=False).encode()).hexdigest()


# -- the applicant's changes -------------------------------------------------------------------
def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _date_field(value: Any, errors: dict[str, list[str]]) -> date | None:
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        raw = _text(value)
        if not raw:
            errors["achieved_on"] = ["请填写取得时间"]
            return None
        try:
            value = date.fromisoformat(raw)
        except ValueError:
            errors["achieved_on"] = ["日期格式应为 年-月-日，如 2023-06-30"]
            return None
    if value > clock.today():
        errors["achieved_on"] = ["取得时间不能晚于今天"]
    return value


def _attachment_ids(data: Mapping[str, Any], errors: dict[str, list[str]]) -> list[str]:
    raw = data.getlist("attachments") if hasattr(data, "getlist") else data.get("attachments")
    if raw in (None, ""):
        return []
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, (list, tuple)) or not all(isinstance(i, str) for i in raw):
        errors["attachments"] = ["附件应为文件编号列表"]
        return []
    ids = list(dict.fromkeys(i.strip() for i in raw if i.strip()))
    if len(ids) > MAX_ATTACHMENTS:
        errors["attachments"] = [f"每项业绩最多 {MAX_ATTACHMENTS} 份附件"]
    return ids


def check_achievement(data: Mapping[str, Any]) -> dict[str, Any]:
    """The cleaned fields of an achievement, or FormInvalid naming every bad field."""
    errors: dict[str, list[str]] = {}
    kind = _text(data.get("kind"))
    if kind not in KINDS:
        errors["kind"] = ["请选择业绩类别：" + "、".join(KINDS)]
    title = _text(data.get("title"))
    if not title:
        errors["title"] = ["请填写业绩名称"]
    elif not TITLE_MIN <= len(title) <= TITLE_MAX:
        errors["title"] = [f"业绩名称应为 {TITLE_MIN}–{TITLE_MAX} 个字"]
    achieved_on = _date_field(data.get("achieved_on"), errors)
    description = _text(data.get("description"))
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = [f"说明不得超过 {DESCRIPTION_MAX} 字（现 {len(description)} 字）"]
    attachments = _attachment_ids(data, errors)
    if errors:
        raise FormInvalid("业绩信息填写有误，请按提示修改", errors)
    return {"kind": kind, "title": title, "achieved_on": achieved_on, "description": description or None,
            "attachments": attachments}


def _locked(user: User) -> PerformanceArchive:
    """The user's archive row, locked for this transaction (created when missing).

    PostgreSQL: SELECT ... FOR UPDATE. SQLite: a no-op write takes the database's write lock;
    a transaction that read before another writer's commit is refused as a conflict.
    """
    if db.session.get_bind().dialect.name == "sqlite":
        try:
            db.session.execute(text("UPDATE performance_archive SET status = status WHERE user_id = :id"),
                               {"id": user.id})
        except OperationalError as exc:
            db.session.rollback()
            raise Conflict("档案正由他人同时办理，请刷新后重试") from exc
    archive = db.session.scalar(select(PerformanceArchive).where(PerformanceArchive.user_id == user.id)
                                .with_for_update().execution_options(populate_existing=True))
    if archive is None:
        archive = PerformanceArchive(user_id=user.id, status="draft")
        db.session.add(archive)
        db.session.flush()
    return archive


def _changed(actor: User, archive: PerformanceArchive) -> None:
    archive.updated_at = clock.now()
    if archive.status in ("submitted", "audited"):
        audit_trail.record("archive_reset", actor=actor, details={"user_id": archive.user_id, "from": archive.status})
        archive.status = "draft"


def _own(actor: User, achievement_id: int) -> Achievement:
    item = db.session.get(Achievement, achievement_id)
    if item is None:
        raise NotFound("该业绩不存在或已删除")
    if item.user_id != actor.id:
        raise NotAllowed("只能查看和修改本人的业绩")
    return item


def get_achievement(actor: User, achievement_id: int) -> Achievement:
    """One of the actor's own achievements (for the edit page)."""
    return _own(actor, achievement_id)


def add_achievement(actor: User, data: Mapping[str, Any]) -> Achievement:
    values = check_achievement(data)
    documents.check_owned(actor, values["attachments"])
    archive = _locked(actor)
    now = clock.now()
    item = Achievement(user_id=actor.id, created_at=now, updated_at=now, **values)
    db.session.add(item)
    db.session.flush()
    _changed(actor, archive)
    audit_trail.record("archive_achievement_added", actor=actor,
                       details={"achievement_id": item.id, "kind": item.kind, "title": item.title})
    db.session.commit()
    return item


def update_achievement(actor: User, achievement_id: int, data: Mapping[str, Any]) -> Achievement:
    item = _own(actor, achievement_id)
    values = check_achievement(data)
    documents.check_owned(actor, values["attachments"])
    archive = _locked(actor)
    for name, value in values.items():
        setattr(item, name, value)
    item.updated_at = clock.now()
    _changed(actor, archive)
    audit_trail.record("archive_achievement_updated", actor=actor,
                       details={"achievement_id": item.id, "kind": item.kind, "title": item.title})
    db.session.commit()
    return item


def delete_achievement(actor: User, achievement_id: int) -> None:
    """The entry goes; its files stay with the owner (they may be evidence of an earlier audit)."""
    item = _own(actor, achievement_id)
    archive = _locked(actor)
    audit_trail.record("archive_achievement_deleted", actor=actor,
                       details={"achievement_id": item.id, "kind": item.kind, "title": item.title})
    db.session.delete(item)
    _changed(actor, archive)
    db.session.commit()


def submit_for_audit(actor: User) -> PerformanceArchive:
    archive = _locked(actor)
    if archive.status == "submitted":
        raise Conflict("档案已提交，正在等待单位审核")
    if archive.status == "audited":
        raise Conflict("档案已审核通过，无需重复提交")
    count = db.session.scalar(select(func.count(Achievement.id)).where(Achievement.user_id == actor.id))
    if not count:
        raise RuleViolation("业绩档案中至少应有一项业绩才能提交审核")
    archive.status = "submitted"
    archive.submitted_at = clock.now()
    audit_trail.record("archive_submitted", actor=actor, details={"user_id": actor.id, "achievements": count})
    db.session.commit()
    return archive


# -- the unit's audit --------------------------------------------------------------------------
def _require_auditor(actor: User) -> set[int]:
    orgs = audit_org_ids(actor)
    if not orgs:
        raise NotAllowed("只有用人单位人事部门（或自主评审单位职改办）可以审核业绩档案")
    return orgs


def _scoped(actor: User):
    orgs = _require_auditor(actor)
    return (select(PerformanceArchive).join(User, PerformanceArchive.user_id == User.id)
            .where(User.org_id.in_(orgs), User.id != actor.id))


def pending_audits(actor: User) -> list[PerformanceArchive]:
    """Submitted archives of the staff of the actor's own unit(s), oldest first."""
    query = _scoped(actor).where(PerformanceArchive.status == "submitted")
    return list(db.session.scalars(query.order_by(PerformanceArchive.submitted_at, PerformanceArchive.id)))


def archives_in_scope(actor: User) -> list[PerformanceArchive]:
    """Every archive of the actor's own staff; those waiting for audit first."""
    waiting = case((PerformanceArchive.status == "submitted", 0), else_=1)
    return list(db.session.scalars(_scoped(actor).order_by(waiting, User.display_name, User.id)))


def _person_in_scope(actor: User, user_id: int) -> User:
    _require_auditor(actor)
    person = db.session.get(User, user_id)
    if person is not None and person.id == actor.id:
        raise NotAllowed("不能审核本人的业绩档案")
    if person is None or not may_audit(actor, person):
        raise NotAllowed("您只能查看和审核本单位人员的业绩档案")
    return person


def archive_for_audit(actor: User, user_id: int) -> tuple[User, PerformanceArchive, list[Achievement]]:
    """One person's archive as their unit's HR sees it (an unsaved draft when none exists)."""
    person = _person_in_scope(actor, user_id)
    archive = _find(person.id) or PerformanceArchive(user_id=person.id, status="draft")
    return person, archive, achievements_of(person)


def audit(actor: User, user_id: int, decision: str, opinion: str | None,
          seen: str | None = None) -> PerformanceArchive:
    """Approve (同意) or return (退回修改, with an opinion) a submitted archive.

    `seen` is the `fingerprint` of the archive the auditor looked at: a change or re-submission
    since then is refused as a conflict, so nobody approves content they have not seen.
    """
    person = _person_in_scope(actor, user_id)
    opinion = _text(opinion)
    errors: dict[str, list[str]] = {}
    if decision not in DECISIONS:
        errors["decision"] = ["请选择审核结论：同意或退回修改"]
    if decision == "return" and not opinion:
        errors["opinion"] = ["退回修改时须填写审核意见"]
    if len(opinion) > OPINION_MAX:
        errors["opinion"] = [f"审核意见不得超过 {OPINION_MAX} 字"]
    if errors:
        raise FormInvalid("审核信息填写有误", errors)
    archive = _locked(person)
    if archive.status != "submitted":
        raise Conflict(f"该档案当前为“{STATUS_LABELS[archive.status]}”状态，不能审核")
    if seen and seen != fingerprint(archive, achievements_of(person)):
        raise Conflict("申请人已修改并重新提交了档案，请刷新页面查看后再审核")
    archive.status = "audited" if decision == "approve" else "returned"
    archive.audited_at = clock.now()
    archive.audited_by_id = actor.id
    archive.audit_opinion = opinion or None
    audit_trail.record("archive_audited" if decision == "approve" else "archive_returned", actor=actor,
                       details={"user_id": person.id, "opinion": opinion or None})
    db.session.commit()
    return archive
