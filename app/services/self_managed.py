"""The self-managed unit's yearly cycle (自主评聘, `self_managed_cycle`): its service tasks.

The plan (three-year plan and this year's plan) by 30 November, approved by both the competent
department and the HR bureau before any meeting (the session refuses to open otherwise); the
filing 5 working days before the meeting (made through the unit's review session, DT-06); the
summary by 28 February of the next year to the recipients B-T05 names. Reminders before each
deadline; a missed deadline raises a supervision flag, never a sanction by itself.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from app import clock
from app.engine import EngineError
from app.extensions import db
from app.models import Committee, Notification, Organisation, ProcessInstance, SupervisionFlag
from app.rules import self_managed as rules
from app.rules import title
from app.rules.dates import as_date
from app.rules.title import county_hr
from app.services import calendar, committees, notifications
from app.services.operations import Call, operation

PROCESS = "self_managed_cycle"
KINDS = {"plan": "评聘规划和当年评聘方案", "summary": "评聘总结"}


def unit_committee(unit: Organisation) -> Committee | None:
    return db.session.scalar(select(Committee).where(Committee.self_managed_org_id == unit.id))


def _evaluates_senior(committee: Committee | None, year: int) -> bool:
    scope = committees.scope_of(committee, year) if committee is not None else None
    titles = [*(scope.titles_evaluated or []), *(scope.titles_recommended or [])] if scope else []
    return any(committees.title_level(t) in rules.SENIOR_LEVELS for t in titles)


def _before(due: date) -> str:
    return calendar.add_working_days(due, -5).date.isoformat()


@operation("cycle_context")
def cycle_context(call: Call) -> dict[str, Any]:
    unit = call.instance.starter.org
    if not unit.self_managed:
        raise EngineError(f"{unit.name}不是自主评聘单位")
    year = int(call.data["plan_year"])
    committee = unit_committee(unit)
    district = unit.competent_dept
    city = district.parent if district is not None and district.parent is not None else district
    plan, summary = rules.plan_due(year), rules.summary_due(year)
    senior = _evaluates_senior(committee, year)
    return {
        "cycle_year": year, "self_managed_unit": unit.name,
        "self_managed_committee": committee.name if committee else None,
        "plan_dept": district.name if district else county_hr(unit.county), "plan_hr": county_hr(unit.county),
        "plan_due": plan.isoformat(), "plan_reminder": _before(plan),
        "summary_due": summary.isoformat(), "summary_reminder": _before(summary),
        "evaluates_senior": senior,
        "summary_recipients": rules.summary_recipients(unit.county, district.name if district else None,
                                                       city.name if city else None, senior),
        "plan_status": None, "filing_status": None, "summary_status": None, "stage": "待提交评聘规划和方案",
    }


def _flag(call: Call, kind: str, reason: str) -> None:
    """One open flag per missed deadline of a cycle."""
    exists = db.session.scalar(select(SupervisionFlag.id).where(
        SupervisionFlag.instance_id == call.instance.id, SupervisionFlag.kind == kind))
    if exists is None:
        db.session.add(SupervisionFlag(kind=kind, subject=str(call.data["self_managed_unit"]),
                                       instance_id=call.instance.id, reason=reason, status="open",
                                       created_at=clock.now()))


def _tell_unit(call: Call, kind: str, message: str) -> None:
    """Once per message: a task re-entered (after a filing) re-arms its deadline timers."""
    said = db.session.scalar(select(Notification.id).where(
        Notification.instance_id == call.instance.id, Notification.kind == kind, Notification.message == message))
    if said is None:
        notifications.notify(kind, message, org_id=call.instance.starter.org_id, role="self_managed_admin",
                             instance=call.instance)


@operation("cycle_reminder")
def cycle_reminder(call: Call) -> dict[str, Any]:
    what = str(call.params["kind"])
    due = call.data[f"{what}_due"]
    _tell_unit(call, "reminder", f"请于 {due} 前提交{call.data['cycle_year']}年度{KINDS[what]}")
    return {}


@operation("cycle_overdue")
def cycle_overdue(call: Call) -> dict[str, Any]:
    """The deadline passed with the task still open: a supervision flag and a notice, no sanction."""
    what = str(call.params["kind"])
    due = call.data[f"{what}_due"]
    reason = f"{call.data['self_managed_unit']}未在 {due} 前提交{call.data['cycle_year']}年度{KINDS[what]}"
    _flag(call, f"{what}_overdue", reason)
    _tell_unit(call, "overdue", f"{reason}，已逾期，请尽快提交")
    return {f"{what}_status": "overdue"}


def _submitted(call: Call, what: str) -> dict[str, Any]:
    today = clock.today()
    due = as_date(call.data[f"{what}_due"])
    status = rules.status(today, due)
    if status == "overdue":
        _flag(call, f"{what}_overdue", f"{call.data['self_managed_unit']}于 {today.isoformat()} 提交"
                                       f"{KINDS[what]}，晚于截止日期 {due.isoformat()}")
    return {f"{what}_submitted_on": today.isoformat(), f"{what}_status": status}


@operation("plan_submitted")
def plan_submitted(call: Call) -> dict[str, Any]:
    return {**_submitted(call, "plan"), "stage": "待主管部门和人社部门审核评聘方案"}


@operation("filing_recorded")
def filing_recorded(call: Call) -> dict[str, Any]:
    """The unit filed (报备) through its review session; the session refused a meeting that breaks DT-06."""
    lead = title.lead_time_ok(call.data["meeting_date"], call.data["report_date"], "not_required",
                              calendar.official_calendar())
    return {"filing_status": "on_time" if lead["may_convene"] else "overdue", "filed_on": call.data["report_date"]}


@operation("summary_submitted")
def summary_submitted(call: Call) -> dict[str, Any]:
    out = _submitted(call, "summary")
    for name in call.data.get("summary_recipients") or []:
        org = db.session.scalar(select(Organisation).where(Organisation.name == name))
        if org is not None:
            notifications.notify("filing", f"{call.data['self_managed_unit']}报送{call.data['cycle_year']}年度评聘总结备案",
                                 org_id=org.id, instance=call.instance)
    return {**out, "stage": "评聘总结已报送备案"}


def approved_cycle(unit: Organisation, year: int) -> ProcessInstance | None:
    """The unit's cycle of the year whose plan both departments approved (B-G01)."""
    cycles = db.session.scalars(select(ProcessInstance).where(
        ProcessInstance.process_id == PROCESS, ProcessInstance.employer_org_id == unit.id))
    return next((c for c in cycles if c.data.get("cycle_year") == year and c.data.get("plan_approved")), None)
