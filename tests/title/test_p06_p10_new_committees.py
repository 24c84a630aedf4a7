"""P06 (the new 汽车零部件 committee, a city committee with a county office) and P10 (the
re-established 林业 committee, the holiday-aware 5-working-day rule, an unfounded objection)."""

from __future__ import annotations

import re

from page_client import Browser
from title_flow import AUTO, CITY_HR, FORESTRY, INDUSTRY, NATURAL, hours

from app.extensions import db
from app.models import Document, Objection
from app.services import notices


def _p06(committee: str) -> dict:
    return {"committee": committee, "target_title": "工程师", "specialty": "汽车零部件工程", "current_title": "助理工程师",
            "title_year": 2016, "education": "大专", "application_mode": "正常申报", "years_in_m26": 9,
            "id_number": "332502198601011234", "phone": "13905780006"}


def test_p06_routed_to_the_new_committee_then_published_by_the_city(flow):
    hours("engineer1", {y: (64, 26, 13) for y in range(2019, 2023)})
    flow.at("2022-07-11")
    wrong = flow.apply("engineer1", **_p06(INDUSTRY))
    assert wrong["status"] == "completed" and wrong["open_tasks"] == []
    assert wrong["data"]["outcome"] == "rejected_routing" and wrong["data"]["routed_committee"] == AUTO
    assert wrong["data"]["route_reason"].startswith("自2022年起汽车零部件工程助理工程师、工程师由")

    cid = flow.apply("engineer1", **_p06(AUTO))["id"]
    assert flow.instance(cid)["data"]["route"] == "accepted"
    flow.through_unit(cid, "auto_hr", "longquan_hr", "2022-07-12")
    flow.at("2022-08-15")
    checked = flow.eligibility("auto_office", cid)
    assert checked["eligible"] is True and checked["single_list"] is True and checked["m26_score"] == 9
    flow.do("auto_office", cid, "受理及资格审查", {"decision": "approve"})

    flow.at("2022-08-22")
    sid = flow.start_session("auto_office", "2022-09-20")["id"]
    session = flow.instance(sid)["data"]
    # D1: the forming unit (市人力社保局) decides; the office in 龙泉 does not make it a county committee
    assert (session["supervising_hr"], session["filing_hr"], session["publishing_hr"]) == (CITY_HR, None, CITY_HR)
    flow.to_meeting("auto_office", sid, pre_notice="2022-08-29", report="2022-09-08", meeting="2022-09-20",
                    opinion_by="city_hr", opinion_on="2022-09-14")
    assert flow.instance(sid)["open_tasks"][0]["name"] == "录入评审会议表决结果"  # no filing task for a city committee
    flow.meeting("auto_office", sid, {cid: 12})
    end = flow.post_notice("auto_office", sid, "2022-09-22")
    flow.at(f"{end}T23:59:00+08:00")
    assert flow.timers() == 0
    flow.at("2022-09-29")
    assert flow.timers() == 1
    flow.do("auto_office", sid, "报送公布申请", {"decision": "approve"})
    flow.do("city_hr", sid, "审核并发文公布", {"decision": "approve"})
    assert flow.instance(sid)["data"]["published_doc_no"] == "丽人社〔2022〕1号"
    data = flow.instance(cid)["data"]
    assert data["outcome"] == "published" and data["certificate_no"]


P10 = {"target_title": "工程师", "specialty": "林业工程", "current_title": "助理工程师", "title_year": 2017,
       "education": "本科", "application_mode": "正常申报", "years_in_m26": 5,
       "id_number": "332501198907071234", "phone": "13905780010"}


def test_p10_national_day_lead_time_and_an_unfounded_objection(flow):
    hours("p10", {y: (60, 30, 12) for y in range(2019, 2023)})
    flow.at("2022-07-11")
    wrong = flow.apply("p10", committee=NATURAL, **P10)
    assert wrong["data"]["outcome"] == "rejected_routing" and wrong["data"]["routed_committee"] == FORESTRY
    cid = flow.apply("p10", committee=FORESTRY, **P10)["id"]
    flow.through_unit(cid, "p10_hr", "liandu_forest", "2022-07-12")
    flow.at("2022-08-15")
    flow.do("forestry_office", cid, "受理及资格审查", {"decision": "approve"})
    flow.at("2022-09-05")
    sid = flow.start_session("forestry_office", "2022-10-10")["id"]
    flow.do("forestry_office", sid, "发布评前公示", {"notice_start": "2022-09-13"})
    flow.at("2022-09-20")
    flow.timers()

    flow.at("2022-09-29")
    page = Browser(flow.client.application, "forestry_office")
    html = page.page(f"/tasks/{flow.task('forestry_office', sid, '报告评审准备情况')['id']}")
    shown = re.sub(r"<[^>]+>", "", html[html.index('id="lead-time"'):html.index("</p>", html.index('id="lead-time"'))])
    assert "最迟应于 2022-09-28 报告" in shown and "最早可于 2022-10-11 召开" in shown and "不足5个工作日" in shown
    report = {"meeting_date": "2022-10-10", "composition": "委员15人", "summary": "评前公示无异议"}
    refused = flow.submit("forestry_office", sid, "报告评审准备情况", report)
    assert refused.status_code == 422
    message = refused.get_json()["error"]["fields"]["meeting_date"][0]
    assert "2022-09-28" in message and "2022-10-11" in message  # Oct 8 and 9 were make-up working days
    flow.do("forestry_office", sid, "报告评审准备情况", {**report, "meeting_date": "2022-10-11"})
    flow.do("city_hr", sid, "审核评审准备情况并出具书面意见", {"decision": "approve", "opinion": "同意"})
    assert flow.instance(sid)["data"]["may_convene"] is True
    flow.at("2022-10-11T08:00:00+08:00")
    flow.timers()
    flow.meeting("forestry_office", sid, {cid: 12})
    end = flow.post_notice("forestry_office", sid, "2022-10-13")
    assert end == "2022-10-19"

    flow.at("2022-10-14T10:00:00+08:00")
    notice = notices.get_notice(flow.instance(sid)["data"]["post_notice_id"])
    objection = notices.submit_objection(notice.id, notice.entry_ids[0], "赵某某", "13900000000",
                                         "该同志从事专业技术工作年限不足，请核查。", [])
    assert flow.task("forestry_office", cid, "调查核实并处理")
    flow.at("2022-10-20")
    assert flow.timers() == 1
    assert [t["name"] for t in flow.instance(sid)["open_tasks"]] == []  # blocked: the objection is open
    assert flow.instance(sid)["data"]["open_objections"] == 1
    flow.at("2022-10-21")
    flow.do("forestry_office", cid, "调查核实并处理",
            {"findings": "经核查社保缴纳记录和劳动合同，工作年限符合要求，反映问题不属实。", "conclusion": "unfounded"})
    db.session.rollback()  # a fresh snapshot: the requests committed in their own sessions
    assert db.session.get(Objection, objection.id).conclusion == "unfounded"
    assert [t["name"] for t in flow.instance(sid)["open_tasks"]] == ["报送公布申请"]
    flow.at("2022-10-24")
    flow.do("forestry_office", sid, "报送公布申请", {"decision": "approve"})
    flow.do("city_hr", sid, "审核并发文公布", {"decision": "approve"})
    assert flow.instance(cid)["data"]["outcome"] == "published"
    letter = db.session.query(Document).filter_by(instance_id=sid, kind="letter_4_2").one()
    assert letter.doc_no.startswith("林业工程中评委〔2022〕")
