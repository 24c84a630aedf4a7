"""P01 周晓岚: the happy path through a district-located 中评委, CE exactly on the thresholds."""

from __future__ import annotations

from title_flow import CITY_HR, LIANDU_HR, P01, P01_HOURS, hours


def test_p01_published_with_certificate(flow):
    hours("teacher1", P01_HOURS)
    flow.at("2022-07-11")
    case = flow.apply("teacher1", **P01)
    cid = case["id"]
    assert [t["name"] for t in case["open_tasks"]] == ["单位审核"]
    flow.do("school_hr", cid, "单位审核", {"decision": "approve"})
    flow.do("school_hr", cid, "单位内公示", {"notice_start": "2022-07-12", "notice_place": "学校公告栏"})
    assert flow.instance(cid)["data"]["unit_notice_end"] == "2022-07-18"
    flow.at("2022-07-18T18:00:00+08:00")
    assert flow.timers() == 0
    flow.at("2022-07-19")
    assert flow.timers() == 1
    flow.do("school_hr", cid, "公示结果及推荐意见", {"notice_result": "no_objection", "decision": "approve",
                                                 "opinion": "同意报送"})
    flow.do("liandu_edu", cid, "主管部门审核", {"decision": "approve"})
    flow.at("2022-08-15")
    task = flow.task("edu_office", cid, "受理及资格审查")
    detail = flow.api("edu_office").get(f"/api/v1/tasks/{task['id']}").get_json()
    assert detail["case"]["ce_ok"] is True and detail["case"]["single_list"] is True
    flow.do("edu_office", cid, "受理及资格审查", {"decision": "approve"})
    data = flow.instance(cid)["data"]
    assert data["ce_ok"] is True and data["stage"] == "资格审查通过，等待评审会次"

    flow.at("2022-08-22")
    session = flow.start_session("edu_office", "2022-09-20")
    sid = session["id"]
    sdata = flow.instance(sid)["data"]
    assert sdata["supervising_hr"] == LIANDU_HR and sdata["filing_hr"] == CITY_HR and sdata["publishing_hr"] == LIANDU_HR
    flow.at("2022-08-29")
    flow.do("edu_office", sid, "发布评前公示", {"notice_start": "2022-08-29"})
    assert flow.instance(sid)["data"]["pre_notice_end"] == "2022-09-02"
    assert flow.instance(cid)["data"]["session_id"] == sid
    flow.at("2022-09-03")
    assert flow.timers() == 1
    flow.at("2022-09-08")
    flow.do("edu_office", sid, "报告评审准备情况", {"meeting_date": "2022-09-20", "composition": "委员15人",
                                                 "summary": "资格审查1人，评前公示无异议"})
    flow.do("city_hr", sid, "评审准备情况备案", {"decision": "approve"})
    flow.at("2022-09-14")
    flow.do("liandu_hr", sid, "审核评审准备情况并出具书面意见", {"decision": "approve", "opinion": "同意"})
    assert flow.instance(sid)["data"]["may_convene"] is True
    flow.at("2022-09-20T08:00:00+08:00")
    assert flow.timers() == 1
    flow.do("edu_office", sid, "录入评审会议表决结果", {"members": 15, "attending": 13, "on_platform": "yes",
                                                   "votes": {str(cid): {"yes": 11}}})
    sdata = flow.instance(sid)["data"]
    assert sdata["vote_valid"] is True and sdata["passed_vote"] == 1
    flow.at("2022-09-22")
    flow.do("edu_office", sid, "发布评后公示", {"notice_start": "2022-09-22"})
    assert flow.instance(sid)["data"]["post_notice_end"] == "2022-09-28"
    flow.at("2022-09-29")
    assert flow.timers() == 1
    flow.do("edu_office", sid, "报送公布申请", {"decision": "approve"})
    flow.at("2022-09-30")
    flow.do("liandu_hr", sid, "审核并发文公布", {"decision": "approve"})
    sdata = flow.instance(sid)["data"]
    assert sdata["published_doc_no"] == "莲人社〔2022〕1号" and sdata["passed"] == 1
    data = flow.instance(cid)["data"]
    assert data["outcome"] == "published" and data["certificate_no"].startswith("LSPS2022")
    flow.at("2022-10-10")
    flow.do("edu_office", sid, "退回评审材料", {"returned_on": "2022-10-10", "decision": "approve"})
    flow.do("school_hr", cid, "接收退回材料并归档", {"received_on": "2022-10-10", "decision": "approve"})
    final = flow.instance(cid)
    assert final["status"] == "completed" and final["data"]["stage"] == "材料已归入本人档案"
    assert flow.instance(sid)["status"] == "completed"
