"""The committee's review session (评审会次, `review_session`): its service tasks.

The session gathers the accepted applications of its committee and plan year, runs the two
public notices, records the meeting's vote per applicant (D13; counts only), produces the
documents (附件4-2, 附件4-3, the recommendation list (D6), the written opinion, the publication
document, the 委托评审函) and tells every applicant's case the outcome through messages.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from app import clock
from app.engine import EngineError
from app.extensions import db
from app.models import Objection, Organisation, ProcessInstance, PublicNotice, SessionEntry, SupervisionFlag
from app.rules import title
from app.rules.dates import as_date
from app.services import (
    authority,
    calendar,
    committees,
    messages,
    notifications,
    outbox,
    paperwork_docs,
    self_managed,
)
from app.services.operations import Call, operation

ASSIGNED = "session_assigned"


def _committee(call: Call):
    """The committee whose office the starter staffs (a unit's staff office may also run its 自主评聘委员会)."""
    starter = call.instance.starter
    offices = [r.org for r in starter.roles if r.role == "committee_office"]
    for org in sorted(offices, key=lambda o: o.id != starter.org_id):
        committee = committees.committee_named(org.name)
        if committee is not None:
            return committee
    raise EngineError(f"{starter.org.name}不是评委会办公室，不能开启评审会次")


def _window_warning(scope, meeting: date) -> str | None:
    """The plan's months are a soft rule: a meeting outside them is flagged, not refused."""
    month = meeting.strftime("%Y-%m")
    if scope.start_month and scope.finish_month and not scope.start_month <= month <= scope.finish_month:
        return f"会议日期不在年度计划的评审时间（{scope.start_month} 至 {scope.finish_month}）内"
    return None


@operation("open_session")
def open_session(call: Call) -> dict[str, Any]:
    committee = _committee(call)
    blocked = authority.blocked_reason(committee)
    if blocked:
        raise EngineError(blocked)
    plan_year = int(call.data["plan_year"])
    scope = committees.scope_of(committee, plan_year)
    if scope is None:
        raise EngineError(f"{plan_year}年度评审计划中没有{committee.name}")
    unit = db.session.get(Organisation, committee.self_managed_org_id) if committee.self_managed_org_id else None
    if unit is not None and self_managed.approved_cycle(unit, plan_year) is None:
        raise EngineError(f"{unit.name}{plan_year}年度的评聘规划和当年评聘方案尚未经主管部门和人力社保部门审核同意，"
                          "不能组织评审（须先在“自主评聘周期”中报送并取得同意）")
    return {
        "committee": committee.name, "committee_short": committee.short_name,
        "committee_level": committee.level, "committee_location": committee.location,
        "self_managed": unit is not None, "self_managed_unit": unit.name if unit else None,
        # a self-managed unit files with its competent department as well as its HR bureau (B-T03)
        "filing_dept": unit.competent_dept.name if unit and unit.competent_dept else None,
        "members": int(call.data.get("members") or committee.members),
        "plan_window": f"{scope.start_month or '—'} 至 {scope.finish_month or '—'}",
        "window_warning": _window_warning(scope, as_date(call.data["meeting_date"])),
        "session_id": call.instance.id, "stage": "准备评前公示",
    }


def entries_of(session_id: int, *, active: bool = False) -> list[SessionEntry]:
    query = select(SessionEntry).where(SessionEntry.session_instance_id == session_id)
    if active:
        query = query.where(SessionEntry.status == "active")
    return list(db.session.scalars(query.order_by(SessionEntry.seq)))


def waiting_applications(committee: str, plan_year: int) -> list[ProcessInstance]:
    """Accepted applications of the committee and year that wait for a session."""
    ids = messages.matching(ASSIGNED, {"committee": committee, "plan_year": plan_year})
    return [db.session.get(ProcessInstance, i) for i in ids]


def _entry(session: ProcessInstance, application: ProcessInstance, seq: int) -> SessionEntry:
    d = application.data
    now = clock.now()
    return SessionEntry(
        session_instance_id=session.id, application_instance_id=application.id, seq=seq,
        applicant_id=application.starter_id, name=str(d.get("applicant_name") or application.starter.display_name),
        employer=str(d.get("employer_org") or ""), employer_org_id=application.employer_org_id,
        specialty=str(d.get("specialty") or ""), target_title=str(d.get("target_title") or ""),
        level=str(d.get("title_level") or committees.title_level(str(d.get("target_title") or ""))),
        application_mode=str(d.get("application_mode") or "正常申报"), education=str(d.get("education") or ""),
        recommended=d.get("route") == "recommended", recommendation_target=d.get("recommendation_target"),
        single_list=bool(d.get("single_list")), m26_score=float(d.get("m26_score") or 0),
        status="active", created_at=now, updated_at=now)


@operation("assign_applicants")
def assign_applicants(call: Call) -> dict[str, Any]:
    """Take every accepted application waiting for this committee and year, and tell each case."""
    d = call.data
    seq = db.session.scalar(select(func.count(SessionEntry.id))
                            .where(SessionEntry.session_instance_id == call.instance.id)) or 0
    payload = {k: d.get(k) for k in ("session_name", "meeting_date", "supervising_hr", "filing_hr",
                                     "publishing_hr", "letter_issuer")}
    payload["session_id"] = call.instance.id
    for application in waiting_applications(str(d["committee"]), int(d["plan_year"])):
        seq += 1
        db.session.add(_entry(call.instance, application, seq))
        outbox.enqueue(ASSIGNED, {"instance_id": application.id}, payload, source=call.instance)
    db.session.flush()
    return {"applicant_count": len(entries_of(call.instance.id, active=True))}


NOTICE_TITLES = {"pre_review": "评前公示", "post_review": "评后公示"}


def _notice_entries(session_id: int, kind: str) -> list[SessionEntry]:
    entries = entries_of(session_id, active=True)
    if kind == "post_review":
        entries = [e for e in entries if e.result in ("passed", "recommended")]
    return entries


@operation("open_notice")
def open_notice(call: Call) -> dict[str, Any]:
    """评前公示 / 评后公示 of the session's applicants for the configured working days (D11)."""
    kind = str(call.params.get("kind"))
    if kind not in NOTICE_TITLES:
        raise EngineError(f"公示类型无效：{kind}")
    prefix = kind.split("_")[0]
    days = int(current_app.config[f"{prefix.upper()}_NOTICE_WORKING_DAYS"])
    start = as_date(call.data["notice_start"])
    end = calendar.official_calendar().notice_end(start, days)
    entries = _notice_entries(call.instance.id, kind)
    notice = PublicNotice(
        kind=kind, session_instance_id=call.instance.id, committee=str(call.data["committee"]),
        title=f"{call.data['committee']}{call.data.get('session_name') or ''}{NOTICE_TITLES[kind]}",
        starts_on=start, ends_on=end.date, working_days=days, entry_ids=[e.id for e in entries],
        created_at=clock.now())
    db.session.add(notice)
    db.session.flush()
    return {f"{prefix}_notice_id": notice.id, f"{prefix}_notice_start": start.isoformat(),
            f"{prefix}_notice_end": end.date.isoformat(), f"{prefix}_notice_provisional": end.provisional,
            "stage": f"{NOTICE_TITLES[kind]}中（至 {end.date.isoformat()}）"}


@operation("objections_open")
def objections_open(call: Call) -> dict[str, Any]:
    """D11: publication (and the meeting) wait while any objection to the session is open."""
    count = db.session.scalar(select(func.count(Objection.id)).where(
        Objection.session_instance_id == call.instance.id, Objection.status == "open")) or 0
    return {"open_objections": count, **({"stage": f"等待 {count} 件异议处理完毕"} if count else {})}


@operation("written_opinion")
def written_opinion(call: Call) -> dict[str, Any]:
    """The supervising bureau's 书面意见 (agree or not); with consent, DT-06 decides may_convene."""
    agreed = call.data.get("decision") == "approve"
    doc_no = paperwork_docs.written_opinion(call, agreed)
    lead = title.lead_time_ok(call.data["meeting_date"], call.data["report_date"], "agree" if agreed else "disagree",
                              calendar.official_calendar())
    return {"opinion_doc_no": doc_no, "may_convene": lead["may_convene"],
            "stage": "已同意召开评审会议" if lead["may_convene"] else "监督人社部门不同意召开，退回修改"}


@operation("report_deadline")
def report_deadline(call: Call) -> dict[str, Any]:
    """Before the latest report (or filing) date, a reminder to the office; once it has passed, the
    planned meeting can no longer be held, and a self-managed unit's missed filing is flagged."""
    d = call.data
    office = committees.committee_named(str(d["committee"]))
    what = "报备" if d.get("self_managed") else "报告评审准备情况"
    if call.params.get("kind") == "reminder":
        message = f"拟于 {d['meeting_date']} 召开评审会议的，最迟须于 {d['latest_report_date']} {what}"
    else:
        message = f"已过 {d['latest_report_date']}，拟于 {d['meeting_date']} 召开的评审会议不足5个工作日，须调整会议日期后再{what}"
        if d.get("self_managed"):
            db.session.add(SupervisionFlag(kind="filing_overdue", subject=str(d["self_managed_unit"]),
                                           instance_id=call.instance.id, status="open", created_at=clock.now(),
                                           reason=f"{d['self_managed_unit']}未在 {d['latest_report_date']} 前报备"
                                                  f"（拟于 {d['meeting_date']} 召开评聘会议）"))
    notifications.notify("reminder" if call.params.get("kind") == "reminder" else "overdue", message,
                         org_id=office.org_id if office else None, role="committee_office", instance=call.instance)
    return {}


@operation("filing_lead_time")
def filing_lead_time(call: Call) -> dict[str, Any]:
    """A self-managed unit files (报备) instead of asking consent: only the date test of DT-06 applies."""
    lead = title.lead_time_ok(call.data["meeting_date"], call.data["report_date"], "not_required",
                              calendar.official_calendar())
    return {"may_convene": lead["may_convene"], "stage": "已报备，待评审会议"}


@operation("record_meeting")
def record_meeting(call: Call) -> dict[str, Any]:
    """DT-10 / D13 per applicant on the yes votes the vote table stored (counts only, never who)."""
    members, attending = int(call.data["members"]), int(call.data["attending"])
    quorum = title.vote_result(members, attending, 0)
    if not quorum["valid"]:
        return {"vote_valid": False, "quorum": quorum["quorum"],
                "stage": f"出席 {attending} 人，不足 {quorum['quorum']} 人，表决无效，须重新安排会议"}
    passed = failed = 0
    for entry in entries_of(call.instance.id, active=True):
        vote = title.vote_result(members, attending, entry.yes_votes or 0)
        entry.result = ("recommended" if entry.recommended else "passed") if vote["passed"] else "failed"
        entry.updated_at = clock.now()
        passed, failed = passed + vote["passed"], failed + (not vote["passed"])
    return {"vote_valid": True, "quorum": quorum["quorum"], "pass_threshold": title.two_thirds_up(attending),
            "passed_vote": passed, "failed_vote": failed, "stage": f"评审会议已表决：通过 {passed} 人"}


@operation("generate_publication_docs")
def generate_publication_docs(call: Call) -> dict[str, Any]:
    return {"letter_doc_no": paperwork_docs.publication_request(call), "stage": "待提交公布申请"}


@operation("publish_results")
def publish_results(call: Call) -> dict[str, Any]:
    doc_no, passed = paperwork_docs.publication(call)
    provincial = [e for e in entries_of(call.instance.id, active=True)
                  if e.result == "recommended" and e.recommendation_target == "provincial_senior"]
    return {"published_doc_no": doc_no, "published_on": clock.today().isoformat(), "passed": passed,
            "provincial_count": len(provincial), "stage": f"已发文公布（{doc_no}）"}


@operation("issue_commission_letter")
def issue_commission_letter(call: Call) -> dict[str, Any]:
    return {"commission_letter_no": paperwork_docs.commission_letter(call), "stage": "已出具委托评审函"}


@operation("invalidate_session")
def invalidate_session(call: Call) -> dict[str, Any]:
    """A-EB1: a review not held on the platform makes every result of the session invalid."""
    reason = str(call.data.get("invalid_reason") or "线下评审线上登记，评审结果无效")
    for entry in entries_of(call.instance.id):
        entry.status, entry.note, entry.updated_at = "invalid", reason, clock.now()
    db.session.add(SupervisionFlag(kind="off_platform", subject=str(call.data["committee"]),
                                   instance_id=call.instance.id, reason=reason, status="open",
                                   created_at=clock.now(), created_by_id=call.actor.id if call.actor else None))
    return {"session_invalid": True, "stage": "评审结果无效（已移交评审监督）"}
