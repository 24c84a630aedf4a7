"""V1/V2 (D13 quorum and pass threshold), E1 (A-EB1: an off-platform review invalidates every result
of the session and opens a supervision flag), and the two lists of 26-county applicants."""

from __future__ import annotations

from title_flow import LIANDU_TEACHERS, P01, hours

from app.extensions import db
from app.models import SessionEntry, SupervisionFlag

TEACHER = P01


def accepted_teachers(flow, usernames: list[str]) -> list[int]:
    cases = []
    for i, username in enumerate(usernames):
        hours(username, {y: (60, 30, 12) for y in range(2019, 2023)})
        flow.at("2022-07-11")
        cid = flow.apply(username, **{**TEACHER, "id_number": f"33250119900101{1230 + i}"})["id"]
        flow.through_unit(cid, "school_hr", "liandu_edu", "2022-07-12")
        flow.at("2022-08-15")
        flow.do("edu_office", cid, "受理及资格审查", {"decision": "approve"})
        cases.append(cid)
    return cases


def session_at_meeting(flow, cases: list[int]) -> int:
    flow.at("2022-08-22")
    sid = flow.start_session("edu_office", "2022-09-20")["id"]
    flow.to_meeting("edu_office", sid, pre_notice="2022-08-29", report="2022-09-08", meeting="2022-09-20",
                    opinion_by="liandu_hr", opinion_on="2022-09-14", filing_by="city_hr")
    assert flow.instance(sid)["data"]["applicant_count"] == len(cases)
    return sid


def test_v1_nine_of_fifteen_is_no_valid_vote_and_the_meeting_is_rescheduled(flow):
    cases = accepted_teachers(flow, ["teacher1"])
    sid = session_at_meeting(flow, cases)
    flow.meeting("edu_office", sid, {}, members=15, attending=9)  # no votes needed: the vote is not valid
    data = flow.instance(sid)["data"]
    assert data["vote_valid"] is False and data["quorum"] == 10
    assert [t["name"] for t in flow.instance(sid)["open_tasks"]] == ["重新安排评审会议"]
    refused = flow.submit("edu_office", sid, "重新安排评审会议", {"meeting_date": "2022-09-19"})
    assert refused.status_code == 422  # before today
    flow.do("edu_office", sid, "重新安排评审会议", {"meeting_date": "2022-09-27"})
    flow.at("2022-09-27T08:00:00+08:00")
    assert flow.timers() == 1
    flow.meeting("edu_office", sid, {cases[0]: 10}, attending=10)
    assert flow.instance(sid)["data"]["vote_valid"] is True


def test_v2_seven_of_twelve_fails_and_every_applicant_needs_a_vote(flow):
    cases = accepted_teachers(flow, ["teacher1", "t2"])
    sid = session_at_meeting(flow, cases)
    missing = flow.submit("edu_office", sid, "录入评审会议表决结果",
                          {"members": 15, "attending": 12, "on_platform": "yes", "votes": {str(cases[0]): {"yes": 8}}})
    assert missing.status_code == 422
    assert f"yes_{cases[1]}" in missing.get_json()["error"]["fields"]
    too_many = flow.submit("edu_office", sid, "录入评审会议表决结果", {
        "members": 15, "attending": 12, "on_platform": "yes",
        "votes": {str(cases[0]): {"yes": 13}, str(cases[1]): {"yes": 7}}})
    assert too_many.status_code == 422 and "0 到 12" in str(too_many.get_json()["error"]["fields"])
    flow.meeting("edu_office", sid, {cases[0]: 8, cases[1]: 7}, attending=12)
    results = {e.application_instance_id: e.result for e in db.session.query(SessionEntry)}
    assert results == {cases[0]: "passed", cases[1]: "failed"}  # 8 = ⌈2/3·12⌉ passes, 7 does not
    assert flow.instance(sid)["data"]["passed_vote"] == 1


def test_e1_an_offline_review_invalidates_the_whole_session(flow):
    cases = accepted_teachers(flow, ["teacher1", "t2"])
    sid = session_at_meeting(flow, cases)
    flow.meeting("edu_office", sid, {}, attending=13, on_platform="no")
    session = flow.instance(sid)
    assert session["status"] == "completed" and session["data"]["session_invalid"] is True
    for cid in cases:
        case = flow.instance(cid)
        assert case["status"] == "completed" and case["data"]["outcome"] == "invalid"
    assert {e.status for e in db.session.query(SessionEntry)} == {"invalid"}
    flag = db.session.query(SupervisionFlag).one()
    assert flag.kind == "off_platform" and flag.subject == LIANDU_TEACHERS and flag.instance_id == sid


def test_an_offline_review_found_at_publication_also_invalidates(flow):
    cases = accepted_teachers(flow, ["teacher1"])
    sid = session_at_meeting(flow, cases)
    flow.meeting("edu_office", sid, {cases[0]: 12})
    flow.post_notice("edu_office", sid, "2022-09-22")
    flow.at("2022-09-29")
    flow.timers()
    flow.do("edu_office", sid, "报送公布申请", {"decision": "approve"})
    flow.do("liandu_hr", sid, "审核并发文公布", {"decision": "invalid", "opinion": "经查，评审会议系线下召开后补录"})
    assert flow.instance(cases[0])["data"]["outcome"] == "invalid"
    assert db.session.query(SupervisionFlag).one().reason == "经查，评审会议系线下召开后补录"
