"""Two objections during one 评后公示, one substantiated: publication stays blocked until both are
concluded (D11), and the substantiated one takes the applicant off 附件4-3. DT-07 per committee:
district, city and county-located committees name different supervising, filing and publishing HR."""

from __future__ import annotations

import pytest
from test_session_votes_and_validity import accepted_teachers, session_at_meeting
from title_flow import CITY_HR, LIANDU_HR, P01, org, pdf_text, person

from app.extensions import db
from app.models import Committee, CommitteeScope, Document, Objection, Organisation
from app.services import notices


def test_two_objections_one_substantiated_publication_waits_for_both(flow):
    teacher1, t2 = accepted_teachers(flow, ["teacher1", "t2"])
    sid = session_at_meeting(flow, [teacher1, t2])
    flow.meeting("edu_office", sid, {teacher1: 12, t2: 11})
    assert flow.post_notice("edu_office", sid, "2022-09-22") == "2022-09-28"
    notice = notices.get_notice(flow.instance(sid)["data"]["post_notice_id"])
    entries = dict(zip([teacher1, t2], notice.entry_ids, strict=True))
    flow.at("2022-09-23T10:00:00+08:00")
    first = notices.submit_objection(notice.id, entries[teacher1], "钱某", "13700000001", "反映其课时量不足，请核查。", [])
    flow.at("2022-09-26T10:00:00+08:00")
    second = notices.submit_objection(notice.id, entries[t2], "孙某", "13700000002", "反映其年度考核未达合格，请核查。", [])
    assert {o.due_on.isoformat() for o in (first, second)} == {"2022-10-12", "2022-10-13"}  # 10 wd; Oct 8, 9 worked

    flow.at("2022-09-29")
    assert flow.timers() == 1
    assert flow.instance(sid)["open_tasks"] == [] and flow.instance(sid)["data"]["open_objections"] == 2
    flow.do("edu_office", t2, "调查核实并处理", {"findings": "经核实，其2021年度考核为基本合格，不符合申报条件。",
                                             "conclusion": "substantiated"})
    assert flow.instance(sid)["open_tasks"] == []  # one is still open
    assert flow.instance(sid)["data"]["open_objections"] == 1
    flow.at("2022-10-10")
    flow.do("edu_office", teacher1, "调查核实并处理", {"findings": "课时量符合要求，反映不属实。", "conclusion": "unfounded"})
    assert [t["name"] for t in flow.instance(sid)["open_tasks"]] == ["报送公布申请"]
    assert {o.conclusion for o in db.session.query(Objection)} == {"unfounded", "substantiated"}

    lst = db.session.query(Document).filter_by(instance_id=sid, kind="list_4_3", content_type="application/pdf").one()
    assert "周晓岚" in pdf_text(lst) and "王老师" not in pdf_text(lst)
    letter = db.session.query(Document).filter_by(instance_id=sid, kind="letter_4_2").one()
    text = pdf_text(letter).replace(" ", "").replace("\n", "")
    assert "收到异议2件" in text and "1件不属实" in text and "1件属实" in text
    flow.do("edu_office", sid, "报送公布申请", {"decision": "approve"})
    flow.do("liandu_hr", sid, "审核并发文公布", {"decision": "approve"})
    assert flow.instance(teacher1)["data"]["outcome"] == "published"
    failed = flow.instance(t2)["data"]
    assert failed["outcome"] == "failed" and "异议属实" in failed["result_note"]
    assert flow.instance(sid)["data"]["passed"] == 1
    # the supervising bureau received both reports
    assert {o.id for o in notices.reports_for(_user("liandu_hr"))} == {first.id, second.id}
    assert notices.reports_for(_user("city_hr")) == []


def _user(username: str):
    from sqlalchemy import select

    from app.models import User

    return db.session.scalar(select(User).where(User.username == username))


def _county_committee(level: str) -> None:
    """A committee 设在县级 (the template rows 各县（市、区）… expand to one per county).

    The 中 one is the plan's own (附件1 row 23 for 龙泉市); the 初 one is made here."""
    name = f"龙泉市中小学教师{level}级专业技术职务任职资格评审委员会"
    existing = db.session.query(Organisation).filter_by(name=name).one_or_none()
    if existing is None:
        org(name, "committee", "龙泉市")
        committee = Committee(org_id=db.session.query(Organisation).filter_by(name=name).one().id,
                              short_name=f"龙泉市中小学教师{level}评委", level=level, series="中小学教师",
                              location="龙泉市", office="龙泉市教育局", members=15)
        committee.scopes.append(CommitteeScope(plan_year=2022, titles_evaluated=["一级教师"], titles_recommended=[],
                                               counties=["龙泉市"], exclude_self_managed=True, exclusive=False,
                                               start_month="2022-07", finish_month="2022-10"))
        db.session.add(committee)
    person(f"longquan_{level}_office", "龙泉市中小学教师评委会办公室", "committee_office", name)
    db.session.commit()


@pytest.mark.parametrize(("office", "level", "expected"), [
    ("edu_office", None, (LIANDU_HR, CITY_HR, LIANDU_HR)),         # district 中评委 (row 2)
    ("auto_office", None, (CITY_HR, None, CITY_HR)),                # city committee, county office (row 4, D1)
    ("longquan_中_office", "中", ("龙泉市人力资源和社会保障局", CITY_HR, "龙泉市人力资源和社会保障局")),  # 设在县级 (row 3)
    ("longquan_初_office", "初", ("龙泉市人力资源和社会保障局", None, "龙泉市人力资源和社会保障局")),    # 初评委 (row 1)
])
def test_dt07_who_supervises_files_and_publishes(flow, office, level, expected):
    if level:
        _county_committee(level)
    flow.at("2022-08-22")
    sid = flow.start_session(office, "2022-09-20")["id"]
    data = flow.instance(sid)["data"]
    assert (data["supervising_hr"], data["filing_hr"], data["publishing_hr"]) == expected
    assert data["letter_issuer"] == CITY_HR


def test_a_suspended_committee_opens_no_session_and_takes_no_application_until_restored(flow):
    from app.services import authority

    committee = db.session.query(Committee).filter_by(short_name="莲都区中小学教师中评委").one()
    flow.at("2023-04-20")
    authority.decide(_user("liandu_hr"), committee.id, "suspend", "复审中发现评审程序严重不规范，暂停评审权",
                     __import__("datetime").date(2023, 4, 20), [])
    refused = flow.api("edu_office").post("/api/v1/process-instances", json={
        "process_model": "review_session", "data": {"session_name": "2023年度评审会议", "meeting_date": "2023-05-30",
                                                     "members": 15}})
    assert refused.status_code == 400 and "暂停评审权" in refused.get_json()["error"]["message"]
    case = flow.apply("teacher1", **P01)
    assert case["status"] == "completed" and case["data"]["outcome"] == "rejected_scope"
    assert "暂停评审权" in case["data"]["route_reason"]  # the applicant sees why
    flow.at("2023-05-10")
    authority.decide(_user("liandu_hr"), committee.id, "restore", "整改验收合格，恢复评审权",
                     __import__("datetime").date(2023, 5, 10), [])
    assert flow.start_session("edu_office", "2023-06-20")["status"] == "running"
    assert flow.apply("teacher1", **P01)["data"]["route"] == "accepted"
