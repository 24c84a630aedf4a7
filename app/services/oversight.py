"""Supervision (评审监督, procedure D): the flags procedures raise and the daily assessment and
patrol findings (日常考核和巡查, D-T02) that competent departments and HR bureaus record."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from app import clock
from app.extensions import db
from app.models import (
    Committee,
    CommitteeScope,
    Document,
    Event,
    ProcessInstance,
    SupervisionFinding,
    SupervisionFlag,
    User,
)
from app.services import audit, committees, documents
from app.services.errors import Conflict, FormInvalid, NotAllowed, NotFound

CITY = "市本级"
FLAG_KINDS = {"off_platform": "线下评审线上登记", "plan_overdue": "评聘方案逾期",
              "filing_overdue": "评聘报备逾期", "summary_overdue": "评聘总结逾期"}
FLAG_STATUS = {"open": "待处理", "closed": "已关闭"}
FINDING_KINDS = {"daily_assessment": "日常考核", "patrol": "巡查"}
FINDING_RESULTS = {"compliant": "符合规定", "problems": "存在问题", "serious": "问题严重"}
FINDINGS_MIN, FINDINGS_MAX = 4, 4000
NOTE_MIN, NOTE_MAX = 2, 2000
MAX_DOCUMENTS = 20

FLAG_VIEW_ROLES = ("manager", "hr_staff", "system_admin")
FLAG_CLOSE_ROLES = ("hr_staff", "system_admin")
FINDING_RECORD_ROLES = ("competent_dept", "hr_staff")
FINDING_VIEW_ROLES = ("competent_dept", "hr_staff", "manager", "system_admin")


def _city_wide(actor: User) -> bool:
    return actor.has_role("system_admin") or actor.org.county == CITY


def may_view_flags(actor: User) -> bool:
    return actor.has_role(*FLAG_VIEW_ROLES)


def may_close_flags(actor: User) -> bool:
    return actor.has_role(*FLAG_CLOSE_ROLES)


def may_record_findings(actor: User) -> bool:
    return actor.has_role(*FINDING_RECORD_ROLES)


def may_view_findings(actor: User) -> bool:
    return actor.has_role(*FINDING_VIEW_ROLES)


# -- supervision flags -------------------------------------------------------------------------
@dataclass(frozen=True)
class FlagEntry:
    flag: SupervisionFlag
    closing: Event | None  # the audit event that closed it: when, who and the note

    @property
    def kind_label(self) -> str:
        return FLAG_KINDS.get(self.flag.kind, self.flag.kind)

    @property
    def note(self) -> str | None:
        return (self.closing.details or {}).get("note") if self.closing is not None else None


def _flag_query(actor: User):
    """The flags the actor may see: city-wide, or those whose case is in the actor's county."""
    if not may_view_flags(actor):
        raise NotAllowed("只有监督管理员、人社部门工作人员和系统管理员可以查看监督事项")
    query = select(SupervisionFlag)
    if not _city_wide(actor):
        query = query.join(ProcessInstance, ProcessInstance.id == SupervisionFlag.instance_id).where(
            ProcessInstance.county == actor.org.county)
    return query


def flags_for(actor: User) -> list[FlagEntry]:
    """Open flags first (newest first), then the closed ones."""
    flags = list(db.session.scalars(_flag_query(actor).order_by(SupervisionFlag.created_at.desc(),
                                                                 SupervisionFlag.id.desc())))
    closed = {f.id for f in flags if f.status == "closed"}
    closings: dict[int, Event] = {}
    if closed:
        for event in db.session.scalars(select(Event).where(Event.type == "supervision_flag_closed")
                                        .order_by(Event.id)):
            flag_id = (event.details or {}).get("flag_id")
            if flag_id in closed:
                closings[flag_id] = event
    entries = [FlagEntry(f, closings.get(f.id)) for f in flags]
    return sorted(entries, key=lambda e: e.flag.status != "open")


def close_flag(actor: User, flag_id: int, note: Any) -> SupervisionFlag:
    """Close a flag with a note of how it was dealt with; the note goes to the audit trail."""
    if not may_close_flags(actor):
        raise NotAllowed("只有人社部门工作人员或系统管理员可以关闭监督事项")
    flag = db.session.scalar(_flag_query(actor).where(SupervisionFlag.id == flag_id))
    if flag is None:
        raise NotFound("监督事项不存在或不在您的监督范围内")
    text = note.strip() if isinstance(note, str) else ""
    if len(text) < NOTE_MIN or len(text) > NOTE_MAX:
        message = "请填写处理说明" if not text else f"处理说明应为 {NOTE_MIN}–{NOTE_MAX} 字"
        raise FormInvalid("处理说明填写有误", {"note": [message]})
    # Conditional update: of two simultaneous closes only one succeeds.
    done = db.session.execute(update(SupervisionFlag).where(SupervisionFlag.id == flag.id,
                                                            SupervisionFlag.status == "open")
                              .values(status="closed").execution_options(synchronize_session=False))
    if done.rowcount != 1:
        db.session.rollback()
        raise Conflict("该监督事项已关闭")
    instance = db.session.get(ProcessInstance, flag.instance_id) if flag.instance_id is not None else None
    audit.record("supervision_flag_closed", actor=actor, instance=instance,
                 details={"flag_id": flag.id, "kind": flag.kind, "subject": flag.subject, "note": text})
    db.session.commit()
    return flag


# -- daily assessment and patrol findings ------------------------------------------------------
def finding_committees() -> list[Committee]:
    """The committees of the current plan year, as the finding form offers them."""
    return list(db.session.scalars(
        select(Committee).join(CommitteeScope, CommitteeScope.committee_id == Committee.id)
        .where(CommitteeScope.plan_year == committees.current_plan_year()).order_by(Committee.id)))


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _committee(value: Any, errors: dict[str, list[str]]) -> Committee | None:
    try:
        committee_id = int(value)
    except (TypeError, ValueError):
        errors["committee_id"] = ["请选择评审委员会"]
        return None
    found = next((c for c in finding_committees() if c.id == committee_id), None)
    if found is None:
        errors["committee_id"] = ["请选择本年度评审计划中的评审委员会"]
    return found


def _document_ids(value: Any, errors: dict[str, list[str]]) -> list[str]:
    ids = [value] if isinstance(value, str) else list(value or [])
    ids = [i.strip() for i in ids if isinstance(i, str) and i.strip()]
    if len(ids) > MAX_DOCUMENTS:
        errors["documents"] = [f"附件不能超过 {MAX_DOCUMENTS} 个"]
    return list(dict.fromkeys(ids))


def check_finding(actor: User, data: Mapping[str, Any]) -> tuple[Committee | None, dict[str, Any]]:
    """Validate every field at once; FormInvalid names each wrong field."""
    errors: dict[str, list[str]] = {}
    committee = _committee(data.get("committee_id"), errors)
    kind, result, findings = _text(data.get("kind")), _text(data.get("result")), _text(data.get("findings"))
    if kind not in FINDING_KINDS:
        errors["kind"] = ["请选择监督方式（日常考核或巡查）"]
    if result not in FINDING_RESULTS:
        errors["result"] = ["请选择检查结论"]
    if not findings:
        errors["findings"] = ["请填写检查情况"]
    elif not FINDINGS_MIN <= len(findings) <= FINDINGS_MAX:
        errors["findings"] = [f"检查情况应为 {FINDINGS_MIN}–{FINDINGS_MAX} 字，现为 {len(findings)} 字"]
    ids = _document_ids(data.get("documents"), errors)
    if "documents" not in errors:
        try:
            documents.check_owned(actor, ids, field="documents")
        except FormInvalid as exc:
            errors.update(exc.fields)
    if errors:
        raise FormInvalid("检查记录填写有误，请按提示修改", errors)
    return committee, {"kind": kind, "result": result, "findings": findings, "documents": ids}


def record_finding(actor: User, data: Mapping[str, Any]) -> SupervisionFinding:
    """A competent department or HR bureau records a daily assessment or patrol of a committee."""
    if not may_record_findings(actor):
        raise NotAllowed("只有行业主管部门和人社部门可以登记日常考核和巡查情况")
    committee, values = check_finding(actor, data)
    assert committee is not None
    finding = SupervisionFinding(
        kind=values["kind"], plan_year=committees.current_plan_year(), committee_id=committee.id,
        subject=committee.name, result=values["result"], findings=values["findings"],
        checklist={}, documents=values["documents"], org_id=actor.org_id, recorded_by_id=actor.id,
        recorded_at=clock.now(), published=False)
    db.session.add(finding)
    db.session.flush()
    audit.record("supervision_finding_recorded", actor=actor,
                 details={"finding_id": finding.id, "committee": committee.name, "kind": finding.kind,
                          "result": finding.result, "plan_year": finding.plan_year})
    db.session.commit()
    return finding


def _findings_query(actor: User):
    if not may_view_findings(actor):
        raise NotAllowed("您无权查看日常考核和巡查情况")
    query = select(SupervisionFinding).where(SupervisionFinding.kind.in_(tuple(FINDING_KINDS)))
    sees_all = actor.has_role("manager", "system_admin") or (actor.has_role("hr_staff") and actor.org.county == CITY)
    return query if sees_all else query.where(SupervisionFinding.org_id == actor.org_id)


def findings_for(actor: User, plan_year: int) -> list[SupervisionFinding]:
    """The recorder's organisation's own findings; city HR, managers and administrators: all."""
    return list(db.session.scalars(_findings_query(actor).where(SupervisionFinding.plan_year == plan_year)
                                   .order_by(SupervisionFinding.recorded_at.desc(), SupervisionFinding.id.desc())))


def finding_documents(findings: list[SupervisionFinding]) -> dict[str, Document]:
    ids = {i for f in findings for i in (f.documents or [])}
    if not ids:
        return {}
    return {d.id: d for d in db.session.scalars(select(Document).where(Document.id.in_(ids)))}


def finding_document(actor: User, finding_id: int, doc_id: str) -> tuple[Document, bytes]:
    """A document of a finding the actor may see (its uploader alone could open it otherwise)."""
    finding = db.session.scalar(_findings_query(actor).where(SupervisionFinding.id == finding_id))
    if finding is None or doc_id not in (finding.documents or []):
        raise NotFound("文件不存在")
    doc = db.session.get(Document, doc_id)
    if doc is None:
        raise NotFound("文件不存在")
    return doc, documents.content_of(doc)
