"""P07 潘文静 and U2: the self-managed unit (丽水市莲都区人民医院) — its staff are routed to its own
committee, its plan must be approved by both departments before any meeting, it files 5 working days
before the meeting (a filing, not an approval), it evaluates with the session machinery, and its
summary goes to the recipients B-T05 names; every missed deadline raises a supervision flag."""

from __future__ import annotations

from page_client import Browser
from title_flow import CITY_HR, HEALTH_SENIOR, LIANDU_HR, hours

from app.extensions import db
from app.models import Committee, Notification, SupervisionFlag
from app.rules.self_managed import PROVINCE_HR, summary_recipients

UNIT_COMMITTEE = "丽水市莲都区人民医院卫生技术人员自主评聘委员会"
P07 = {"target_title": "副主任医师", "specialty": "内科", "current_title": "主治医师", "title_year": 2016,
       "education": "本科", "application_mode": "正常申报", "years_in_m26": 10,
       "id_number": "332501198301011234", "phone": "13905780007"}
CYCLE = "自主评聘年度周期"


def start_cycle(flow, when: str) -> int:
    flow.at(when)
    response = flow.api("hospital_admin").post("/api/v1/process-instances", json={
        "process_model": "self_managed_cycle", "data": {"plan_period": "2022—2024年"}})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def submit_plan(flow, cycle: int, task: str = "报送评聘规划和当年评聘方案") -> None:
    upload = flow.api("hospital_admin").client.post(
        "/api/v1/documents", headers=flow.api("hospital_admin").headers,
        data={"file": (__import__("io").BytesIO(b"%PDF-1.4 plan"), "方案.pdf")})
    doc = upload.get_json()["id"]
    flow.do("hospital_admin", cycle, task, {"three_year_plan": [doc], "annual_plan": [doc],
                                            "plan_summary": "卫技中级、副高级，计划12月下旬召开评聘会议"})


def open_session(flow, meeting: str):
    return flow.api("hospital_admin").post("/api/v1/process-instances", json={
        "process_model": "review_session",
        "data": {"session_name": "2022年度自主评聘会议", "meeting_date": meeting, "members": 15}})


def test_p07_routed_to_the_unit_plan_filing_evaluation_and_a_late_summary(flow):
    hours("doctor1", {y: (60, 30, 12) for y in range(2019, 2023)})
    flow.at("2022-10-10")
    refused = flow.apply("doctor1", committee=HEALTH_SENIOR, **P07)
    assert refused["data"]["outcome"] == "rejected_scope" and refused["data"]["routed_committee"] == UNIT_COMMITTEE
    assert UNIT_COMMITTEE in refused["data"]["route_reason"]

    cycle = start_cycle(flow, "2022-11-01")
    data = flow.instance(cycle)["data"]
    assert (data["plan_dept"], data["plan_hr"], data["plan_due"], data["summary_due"]) == (
        "莲都区卫生健康局", LIANDU_HR, "2022-11-30", "2023-02-28")
    assert data["summary_recipients"] == ["莲都区卫生健康局", LIANDU_HR, "丽水市卫生健康委员会", CITY_HR, PROVINCE_HR]
    assert flow.task("hospital_admin", cycle, "报送评聘规划和当年评聘方案")["due_date"] == "2022-11-30"  # dueDate plan_due
    flow.at("2022-11-23T00:00:00+08:00")
    assert flow.timers() == 1  # 5 working days before 30 November
    assert db.session.query(Notification).filter_by(kind="reminder").count() == 1
    flow.at("2022-11-25")
    submit_plan(flow, cycle)
    assert flow.instance(cycle)["data"]["plan_status"] == "on_time"
    refused = open_session(flow, "2022-12-20")
    assert refused.status_code == 400  # no meeting before both approvals
    assert "尚未经主管部门和人力社保部门审核同意" in refused.get_json()["error"]["message"]
    flow.at("2022-12-02")
    flow.do("liandu_health", cycle, "审核评聘方案（主管部门）", {"dept_decision": "approve"})
    assert flow.instance(cycle)["data"].get("plan_approved") is None  # the HR bureau has not approved yet
    flow.do("liandu_hr", cycle, "审核评聘方案（人社部门）", {"hr_decision": "approve"})
    assert flow.instance(cycle)["data"]["plan_approved"] is True

    flow.at("2022-11-14")  # doctor1 applies to the unit's own committee
    cid = flow.apply("doctor1", committee=UNIT_COMMITTEE, **P07)["id"]
    assert flow.instance(cid)["data"]["route"] == "accepted"
    flow.through_unit(cid, "hospital_admin", "liandu_health", "2022-11-15")
    flow.do("hospital_admin", cid, "受理及资格审查", {"decision": "approve"})
    flow.at("2022-12-05")
    session = open_session(flow, "2022-12-20")
    assert session.status_code == 201, session.get_json()
    sid = session.get_json()["id"]
    sdata = flow.instance(sid)["data"]
    assert sdata["opinion_required"] is False and sdata["publishing_hr"] == UNIT_COMMITTEE
    assert (sdata["filing_hr"], sdata["filing_dept"]) == (LIANDU_HR, "莲都区卫生健康局")
    flow.do("hospital_admin", sid, "发布评前公示", {"notice_start": "2022-12-05"})
    flow.at("2022-12-10")
    flow.timers()
    flow.at("2022-12-14")
    late = flow.submit("hospital_admin", sid, "报告评审准备情况",
                       {"meeting_date": "2022-12-20", "composition": "评聘委员会15人", "summary": "评前公示无异议"})
    assert late.status_code == 422 and "2022-12-13" in str(late.get_json()["error"]["fields"])
    flow.at("2022-12-12")
    flow.do("hospital_admin", sid, "报告评审准备情况",
            {"meeting_date": "2022-12-20", "composition": "评聘委员会15人", "summary": "评前公示无异议"})
    assert flow.instance(cycle)["data"]["filing_status"] == "on_time"  # the session told the cycle
    flow.do("liandu_hr", sid, "评审准备情况备案", {"decision": "approve"})
    flow.do("liandu_health", sid, "评审前报备（主管部门）", {"decision": "approve"})
    assert all(t["name"] != "审核评审准备情况并出具书面意见" for t in flow.instance(sid)["open_tasks"])
    flow.at("2022-12-20T08:00:00+08:00")
    flow.timers()
    flow.meeting("hospital_admin", sid, {cid: 12})
    flow.post_notice("hospital_admin", sid, "2022-12-21")
    flow.at("2022-12-28")
    flow.timers()
    flow.do("hospital_admin", sid, "报送公布申请", {"decision": "approve"})
    flow.do("hospital_admin", sid, "审核并发文公布", {"decision": "approve"})  # the unit publishes its own results
    assert flow.instance(sid)["data"]["published_doc_no"] == "丽水市莲都区人民医院〔2022〕1号"
    case = flow.instance(cid)["data"]
    assert case["outcome"] == "published" and case["certificate_no"]

    flow.at("2023-02-21T00:00:00+08:00")
    assert flow.timers() == 1  # the summary reminder
    flow.at("2023-03-01T00:00:00+08:00")
    assert flow.timers() == 1  # 28 February is over
    flag = db.session.query(SupervisionFlag).filter_by(kind="summary_overdue").one()
    assert flag.instance_id == cycle and "2023-02-28" in flag.reason
    flow.at("2023-03-01")
    flow.do("hospital_admin", cycle, "报送评聘总结", {"summary_text": "2022年度自主评聘工作总结：评聘副主任医师1人",
                                                  "appointed": 1, "summary_docs": []} | _doc(flow))
    data = flow.instance(cycle)["data"]
    assert (data["plan_status"], data["filing_status"], data["summary_status"]) == ("on_time", "on_time", "overdue")
    assert flow.instance(cycle)["status"] == "completed"
    assert db.session.query(SupervisionFlag).filter_by(kind="summary_overdue").count() == 1  # one flag, no more
    assert db.session.query(Committee).filter_by(short_name="莲都区人民医院自主评聘委员会").one().authority_state == "ACTIVE"
    notified = {n.org_id for n in db.session.query(Notification).filter_by(kind="filing")}
    assert len(notified) == 5  # every recipient organisation known to the system
    # the summary reached them: each recipient may read the cycle, and sees the notice in its inbox
    assert flow.api("city_hr").get(f"/api/v1/process-instances/{cycle}").status_code == 200
    assert flow.api("city_health").get(f"/api/v1/process-instances/{cycle}").status_code == 200
    assert flow.api("longquan_hr").get(f"/api/v1/process-instances/{cycle}").status_code == 403
    assert "报送2022年度评聘总结备案" in Browser(flow.client.application, "city_hr").page("/inbox")
    assert "请于 2023-02-28 前提交2022年度评聘总结" in Browser(flow.client.application, "hospital_admin").page("/inbox")


def _doc(flow) -> dict:
    upload = flow.api("hospital_admin").client.post(
        "/api/v1/documents", headers=flow.api("hospital_admin").headers,
        data={"file": (__import__("io").BytesIO(b"%PDF-1.4 summary"), "总结.pdf")})
    return {"summary_docs": [upload.get_json()["id"]]}


def test_u2_a_late_plan_is_flagged_and_no_meeting_before_both_approvals(flow):
    cycle = start_cycle(flow, "2022-11-01")
    flow.at("2022-12-01T00:00:00+08:00")
    assert flow.timers() == 1  # one case, whose two timers (the reminder of 23 Nov, 30 November) are both due
    assert db.session.query(Notification).filter_by(kind="reminder").count() == 1
    flow.at("2022-12-01")
    flag = db.session.query(SupervisionFlag).filter_by(kind="plan_overdue").one()
    assert flag.subject == "丽水市莲都区人民医院" and flag.status == "open"
    submit_plan(flow, cycle)
    assert flow.instance(cycle)["data"]["plan_status"] == "overdue"
    assert db.session.query(SupervisionFlag).filter_by(kind="plan_overdue").count() == 1
    assert open_session(flow, "2022-12-28").status_code == 400
    flow.do("liandu_health", cycle, "审核评聘方案（主管部门）", {"dept_decision": "approve"})
    flow.do("liandu_hr", cycle, "审核评聘方案（人社部门）", {"hr_decision": "return", "hr_opinion": "请补充岗位数"})
    assert open_session(flow, "2022-12-28").status_code == 400  # one approval is not enough
    submit_plan(flow, cycle, task="修改评聘规划和方案")
    flow.do("liandu_health", cycle, "审核评聘方案（主管部门）", {"dept_decision": "approve"})
    flow.do("liandu_hr", cycle, "审核评聘方案（人社部门）", {"hr_decision": "approve"})
    assert open_session(flow, "2022-12-28").status_code == 201


def test_summary_recipients_with_and_without_senior_titles():
    senior = summary_recipients("莲都区", "莲都区卫生健康局", "丽水市卫生健康委员会", True)
    assert senior == ["莲都区卫生健康局", LIANDU_HR, "丽水市卫生健康委员会", CITY_HR, PROVINCE_HR]
    middle = summary_recipients("莲都区", "莲都区卫生健康局", "丽水市卫生健康委员会", False)
    assert middle == ["莲都区卫生健康局", LIANDU_HR, "丽水市卫生健康委员会", CITY_HR]
    city_unit = summary_recipients("市本级", "丽水市卫生健康委员会", "丽水市卫生健康委员会", False)
    assert city_unit == ["丽水市卫生健康委员会", CITY_HR]  # no district level


def test_a_suspended_unit_opens_no_session_until_a_recorded_decision_lifts_it(flow):
    from datetime import date

    from app.models import User
    from app.services import authority

    cycle = start_cycle(flow, "2022-11-01")
    flow.at("2022-11-25")
    submit_plan(flow, cycle)
    flow.do("liandu_health", cycle, "审核评聘方案（主管部门）", {"dept_decision": "approve"})
    flow.do("liandu_hr", cycle, "审核评聘方案（人社部门）", {"hr_decision": "approve"})
    committee = db.session.query(Committee).filter_by(short_name="莲都区人民医院自主评聘委员会").one()
    hr = db.session.query(User).filter_by(username="liandu_hr").one()
    flow.at("2022-11-28")
    authority.decide(hr, committee.id, "warn", "未严格按照公布的评聘方案实施，投诉较多", date(2022, 11, 28), [])
    authority.decide(hr, committee.id, "suspend", "经整改仍无明显改善，暂停评审权", date(2022, 11, 28), [])
    refused = open_session(flow, "2022-12-20")
    assert refused.status_code == 400 and "暂停评审权" in refused.get_json()["error"]["message"]
    flow.at("2022-11-29")
    authority.decide(hr, committee.id, "restore", "整改到位，恢复评审权", date(2022, 11, 29), [])
    assert open_session(flow, "2022-12-20").status_code == 201
    assert [d.decision for d in authority.history(committee.id)] == ["warn", "suspend", "restore"]


def test_the_filing_deadline_is_reminded_and_a_missed_filing_is_flagged(flow):
    hours("doctor1", {y: (60, 30, 12) for y in range(2019, 2023)})
    flow.at("2022-10-10")
    cid = flow.apply("doctor1", committee=UNIT_COMMITTEE, **P07)["id"]
    flow.through_unit(cid, "hospital_admin", "liandu_health", "2022-10-11")
    flow.do("hospital_admin", cid, "受理及资格审查", {"decision": "approve"})
    cycle = start_cycle(flow, "2022-11-01")
    flow.at("2022-11-25")
    submit_plan(flow, cycle)
    flow.do("liandu_health", cycle, "审核评聘方案（主管部门）", {"dept_decision": "approve"})
    flow.do("liandu_hr", cycle, "审核评聘方案（人社部门）", {"hr_decision": "approve"})
    flow.at("2022-11-28")
    sid = open_session(flow, "2022-12-20").get_json()["id"]
    flow.do("hospital_admin", sid, "发布评前公示", {"notice_start": "2022-11-28"})
    flow.at("2022-12-03")
    flow.timers()
    assert flow.instance(sid)["data"]["latest_report_date"] == "2022-12-13"
    flow.at("2022-12-09T00:00:00+08:00")
    flow.timers()  # 7 working days before the meeting: two left to file
    reminder = db.session.query(Notification).filter_by(instance_id=sid, kind="reminder").one()
    assert "最迟须于 2022-12-13 报备" in reminder.message
    flow.at("2022-12-14T00:00:00+08:00")
    flow.timers()
    flag = db.session.query(SupervisionFlag).filter_by(kind="filing_overdue").one()
    assert flag.instance_id == sid and "2022-12-13" in flag.reason
    flow.at("2022-12-14")
    flow.do("hospital_admin", sid, "报告评审准备情况", {"meeting_date": "2022-12-21", "composition": "评聘委员会15人",
                                                   "summary": "评前公示无异议"})  # moved: 5 working days again
    assert flow.instance(cycle)["data"]["filing_status"] == "on_time"


def test_a_unit_without_senior_titles_files_its_summary_without_the_province(flow):
    from title_flow import org, person

    from app.models import CommitteeScope

    unit = org("丽水市莲都区中医院", "self_managed_unit", "莲都区", "事业单位", "莲都区卫生健康局")
    unit.self_managed = True
    committee_org = org("丽水市莲都区中医院卫生技术人员自主评聘委员会", "committee", "莲都区")
    committee = Committee(org_id=committee_org.id, short_name="莲都区中医院自主评聘委员会", level="中", series="卫生技术",
                          location="莲都区", members=11, self_managed_org_id=unit.id)
    committee.scopes.append(CommitteeScope(plan_year=2022, titles_evaluated=["主治中医师", "主管护师"], titles_recommended=[],
                                           exclude_self_managed=False, exclusive=False, employers=[unit.name]))
    db.session.add(committee)
    person("tcm_admin", "中医院职改办", "self_managed_admin", unit.name)
    db.session.commit()
    flow.at("2022-11-01")
    started = flow.api("tcm_admin").post("/api/v1/process-instances", json={
        "process_model": "self_managed_cycle", "data": {"plan_period": "2022—2024年"}})
    assert started.status_code == 201, started.get_json()
    data = flow.instance(started.get_json()["id"])["data"]
    assert data["evaluates_senior"] is False
    assert data["summary_recipients"] == ["莲都区卫生健康局", LIANDU_HR, "丽水市卫生健康委员会", CITY_HR]
