"""The applicant's case of the title review (评审程序, `title_application`): its service tasks.

Routing (DT-08) right after submission, the committee office's eligibility check with every rule
(DT-01/02 CE hours, DT-03 integrity bar, DT-04 26 counties, DT-08 scope, DT-09 jurisdiction,
DT-10 bars), the final result read from the session, and objections (异议) to the applicant.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app import clock
from app.engine import EngineError
from app.extensions import db
from app.models import Document, Objection, SessionEntry
from app.rules import title
from app.services import archives, authority, ce, committees, integrity
from app.services.operations import Call, operation


def _department(call: Call) -> str:
    """Who reviews after the unit: its competent department, else (enterprises) the local HR bureau."""
    org = call.instance.employer_org
    if org is not None and org.competent_dept is not None:
        return org.competent_dept.name
    return title.county_hr(str(call.data.get("unit_county") or ""))


@operation("route_application")
def route_application(call: Call) -> dict[str, Any]:
    """DT-08 against the plan of the application's year; a refusal names the committee that takes it."""
    d = call.data
    target = str(d["target_title"])
    routed = committees.route(int(d["plan_year"]), str(d["committee"]), str(d["specialty"]), target,
                              d.get("unit_type"), str(d["unit_county"]), bool(d.get("self_managed")),
                              d.get("employer_org"))
    out: dict[str, Any] = {
        "route": routed["route"], "route_ok": routed["accepted"], "route_reason": routed["reason"],
        "routed_committee": routed["committee"], "recommendation_target": routed["recommendation_target"],
        "title_level": committees.title_level(target), "required_years": committees.required_years(target),
        "dept_org": _department(call),
    }
    applied = committees.committee_named(str(d["committee"]))
    blocked = authority.blocked_reason(applied) if applied is not None else None
    if blocked and routed["accepted"]:  # a suspended or revoked committee accepts no application
        out.update(route="blocked", route_ok=False, route_reason=blocked, routed_committee=None)
    if not out["route_ok"]:
        # another committee takes it (rejected_routing); anything else is out of scope (incl. self-managed units)
        out["outcome"] = "rejected_routing" if out["route"] == "rejected_routing" else "rejected_scope"
        out["stage"] = "申报评委会不受理"
    return out


def _hours(call: Call) -> dict[int, dict[str, int]]:
    return {r.year: {"professional": r.professional, "public": r.public, "general_public": r.general_public}
            for r in ce.records_for(call.instance.starter)}


def _bars(call: Call) -> list[str]:
    """DT-10: bars that are not a matter of hours or routing."""
    bars = []
    if call.data.get("retired"):
        bars.append("申报人已办理离退休手续，不得申报职称评审")
    if not archives.is_audited(call.instance.starter):
        bars.append("业绩档案未经用人单位审核，不能申报（请完善业绩档案并提交单位审核）")
    return bars


@operation("check_eligibility")
def check_eligibility(call: Call) -> dict[str, Any]:
    """A-T17: every rule's result and reasons, on the hours registered by today (D4)."""
    d = call.data
    ce_result = title.ce_application_ok(int(d["plan_year"]), int(d["title_year"]), int(d["required_years"]),
                                        _hours(call))
    gate = title.integrity_gate("intake_check", None, None, None, d["submitted_on"],
                                integrity.active_ban_until(call.instance.starter))
    m26 = title.mountain26(str(d["unit_county"]), float(d.get("years_in_m26") or 0))
    routed = route_application(call)
    jurisdiction = title.jurisdiction_gate(d.get("affiliation_consistent"), bool(d.get("affiliation_in_city")),
                                           bool(d.get("commission_letter")))
    bars = _bars(call)
    reasons = list(ce_result["reasons"])
    if gate["action"] != "pass":
        reasons.append(gate["reason"])
    if not routed["route_ok"]:
        reasons.append(routed["route_reason"])
    if jurisdiction["result"] == "pending":
        reasons.append(jurisdiction["reason"])
    reasons.extend(bars)
    eligible = not reasons
    return {
        "ce_ok": ce_result["ce_ok"], "ce_compliant_years": ce_result["compliant_years"],
        "ce_reasons": ce_result["reasons"],
        "ce_years": [{"year": y, "compliant": r["compliant"], "reasons": r["reasons"]}
                     for y, r in sorted(ce_result["years"].items())],
        "integrity_action": gate["action"], "integrity_reason": gate["reason"], "ban_until": gate["ban_until"],
        "single_list": m26["single_list"], "m26_score": m26["m26_score"],
        "jurisdiction": jurisdiction["result"], "jurisdiction_reason": jurisdiction["reason"],
        "route_ok": routed["route_ok"], "route_reason": routed["route_reason"],
        "bars": bars, "eligible": eligible, "eligibility_reasons": reasons, "stage": "评委会受理及资格审查",
        "checked_on": clock.today().isoformat(),
        "office_choices": ["approve", "return", "reject"] if eligible else ["return", "reject", "recheck"],
    }


def entry_of(instance_id: int) -> SessionEntry | None:
    return db.session.scalar(select(SessionEntry).where(SessionEntry.application_instance_id == instance_id))


STATUS_OUTCOMES = {"vetoed": "vetoed", "removed": "failed", "invalid": "invalid"}
RESULT_OUTCOMES = {"passed": "published", "recommended": "recommended", "failed": "failed"}
OUTCOME_STAGES = {"published": "已公布，颁发电子证书", "recommended": "已推荐至上级评委会", "failed": "评审未通过",
                  "vetoed": "一票否决", "invalid": "评审结果无效"}


@operation("read_entry")
def read_entry(call: Call) -> dict[str, Any]:
    """The applicant's result once the session is concluded (published, or invalid)."""
    entry = entry_of(call.instance.id)
    if entry is None:
        raise EngineError("本申请不在任何评审会次中")
    if call.data.get("session_invalid"):
        outcome = "invalid"
    else:
        outcome = STATUS_OUTCOMES.get(entry.status) or RESULT_OUTCOMES.get(entry.result or "", "failed")
    out: dict[str, Any] = {"outcome": outcome, "yes_votes": entry.yes_votes, "result_note": entry.note,
                           "stage": OUTCOME_STAGES[outcome]}
    if outcome == "vetoed":
        ban = integrity.active_ban_until(call.instance.starter)
        out["ban_until"] = ban.isoformat() if ban else None
    return out


# -- objections (the event subprocess of the case) ----------------------------------------------
NOTICE_KINDS = {"pre_review": "评前公示", "post_review": "评后公示"}
NOTICE_STAGES = {"pre_review": "pre_notice", "post_review": "post_notice"}  # DT-03 stages


def _objection(call: Call) -> Objection:
    objection = db.session.get(Objection, int(call.data["objection_id"]))
    if objection is None or objection.application_instance_id != call.instance.id:
        raise EngineError("异议记录不存在或不属于本案件")
    return objection


@operation("objection_context")
def objection_context(call: Call) -> dict[str, Any]:
    objection = _objection(call)
    return {"objection_notice": NOTICE_KINDS[objection.notice.kind], "objection_due_on": objection.due_on.isoformat(),
            "objection_received_on": clock.to_local(objection.received_at).date().isoformat(),
            "session_id": objection.session_instance_id}


CONCLUSIONS = ("unfounded", "substantiated", "fraud")


def _attach_reports(call: Call, objection: Objection) -> None:
    ids = [i for i in call.data.get("report") or [] if isinstance(i, str)]
    for doc in db.session.scalars(select(Document).where(Document.id.in_(ids), Document.instance_id.is_(None))):
        doc.instance_id, doc.kind, doc.audience = objection.application_instance_id, "objection_report", "officials"


@operation("conclude_objection")
def conclude_objection(call: Call) -> dict[str, Any]:
    """Record the conclusion; a substantiated one removes the applicant, fraud also bars them (DT-03)."""
    objection = _objection(call)
    conclusion = str(call.data.get("conclusion"))
    if conclusion not in CONCLUSIONS:
        raise EngineError(f"异议处理结论无效：{conclusion}")
    today = clock.today()
    objection.status, objection.conclusion = "concluded", conclusion
    objection.findings = str(call.data.get("findings") or "")
    objection.concluded_at = clock.now()
    objection.concluded_by_id = call.actor.id if call.actor else None
    _attach_reports(call, objection)
    out: dict[str, Any] = {"objection_conclusion": conclusion}
    entry = objection.entry
    if conclusion == "substantiated" and entry.status == "active":
        entry.status, entry.note = "removed", f"异议属实，取消评审通过资格：{objection.findings}"[:2000]
    elif conclusion == "fraud":
        objection.finding_type = str(call.data.get("finding_type") or "academic_fraud")
        result = integrity.record_finding(call.instance.starter, objection.finding_type,
                                          NOTICE_STAGES[objection.notice.kind], today, actor=call.actor,
                                          instance_id=call.instance.id, objection_id=objection.id)
        entry.status, entry.note = "vetoed", result["reason"]
        out["objection_ban_until"] = result["ban_until"]
    entry.updated_at = clock.now()
    return out

