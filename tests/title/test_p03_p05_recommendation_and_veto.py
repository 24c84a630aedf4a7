"""P03: recommended to the province; only 市人力社保局 issues the 委托评审函; the provincial result
arrives as a message. P05: fraud found during 评后公示: one-vote veto, 3-year bar, re-applications."""

from __future__ import annotations

from title_flow import AGRI, CITY_HR, TRANSPORT, hours, pdf_text, plan_year

from app.extensions import db
from app.models import Document, IntegrityRecord
from app.services import notices

PDF = "application/pdf"
_text = pdf_text


def test_p03_recommended_to_the_province_with_the_city_commission_letter(flow):
    plan_year(2021)
    hours("p03", {2019: (61, 30, 12), 2020: (63, 30, 18), 2021: (70, 20, 12)})
    flow.at("2021-06-07")
    cid = flow.apply("p03", committee=TRANSPORT, target_title="高级工程师", specialty="交通工程", current_title="工程师",
                     title_year=2015, education="本科", application_mode="正常申报", years_in_m26=10,
                     id_number="332501197806061234", phone="13905780003")["id"]
    data = flow.instance(cid)["data"]
    assert data["route"] == "recommended" and data["recommendation_target"] == "provincial_senior"
    assert data["dept_org"] == "丽水市交通运输局"
    flow.through_unit(cid, "p03_hr", "transport_dept", "2021-06-08")
    flow.at("2021-07-05")
    checked = flow.eligibility("transport_office", cid)
    assert checked["ce_ok"] is True and checked["ce_compliant_years"] == 6 and checked["single_list"] is True
    flow.do("transport_office", cid, "受理及资格审查", {"decision": "approve"})
    flow.at("2021-07-26")
    sid = flow.start_session("transport_office", "2021-08-18", name="2021年度评审会议")["id"]
    session = flow.instance(sid)["data"]
    assert (session["supervising_hr"], session["filing_hr"], session["publishing_hr"]) == (CITY_HR, None, CITY_HR)
    assert session["window_warning"] is None  # June–August is the plan's window
    flow.to_meeting("transport_office", sid, pre_notice="2021-07-27", report="2021-08-10", meeting="2021-08-18",
                    opinion_by="city_hr", opinion_on="2021-08-11")
    flow.meeting("transport_office", sid, {cid: 11})
    end = flow.post_notice("transport_office", sid, "2021-08-20")
    assert end == "2021-08-26"
    flow.at("2021-08-27")
    flow.timers()
    flow.do("transport_office", sid, "报送公布申请", {"decision": "approve"})
    kinds = {d.kind: d for d in db.session.query(Document).filter_by(instance_id=sid, content_type=PDF)}
    assert "recommendation_list" in kinds
    assert "吴国平" not in _text(kinds["list_4_3"])  # D6: recommended applicants are listed separately
    assert "吴国平" in _text(kinds["recommendation_list"])
    flow.do("city_hr", sid, "审核并发文公布", {"decision": "approve"})
    # only 市人力社保局 issues the commission letter, in its own lane
    assert [t["name"] for t in flow.instance(sid)["open_tasks"]] == ["出具委托评审函"]
    assert flow.api("transport_office").tasks(instance_id=sid) == []
    flow.do("city_hr", sid, "出具委托评审函", {"letter_addressee": "浙江省交通工程技术人员高级职务任职资格评审委员会",
                                          "decision": "approve"})
    letter = db.session.query(Document).filter_by(instance_id=sid, kind="commission_letter").one()
    assert letter.doc_no == "丽人社函〔2021〕2号"  # 〔2021〕1号 was the written opinion
    text = _text(letter)
    assert "吴国平" in text and CITY_HR in text and "浙江省交通工程技术人员高级职务任职资格评审委员会" in text
    case = flow.instance(cid)
    assert case["data"]["outcome"] == "recommended" and case["data"]["commission_letter_no"] == letter.doc_no
    assert "certificate_no" not in case["data"]
    assert [t["name"] for t in case["open_tasks"]] == ["录入省级评审结果"]  # AWAITING_PROVINCIAL
    # the applicant sees the letter on the case
    page = flow.api("p03").get(f"/api/v1/process-instances/{cid}").get_json()
    assert page["data"]["commission_letter_no"] == letter.doc_no
    delivered = flow.api("city_hr").post("/api/v1/messages", json={
        "name": "provincial_result", "correlation": {"applicant": "p03"},
        "payload": {"provincial_result": "passed", "provincial_doc_no": "浙人社〔2021〕99号"}})
    assert delivered.status_code == 202, delivered.get_json()
    final = flow.instance(cid)
    assert final["status"] == "completed" and final["data"]["provincial_result"] == "passed"
    assert final["data"]["stage"] == "省级评审结果已录入"


P05 = {"committee": AGRI, "target_title": "农艺师", "specialty": "农业技术推广", "current_title": "助理农艺师",
       "title_year": 2017, "education": "本科", "application_mode": "正常申报", "years_in_m26": 5,
       "id_number": "332501198805051235", "phone": "13905780005"}


def _apply_p05(flow, when: str) -> int:
    flow.at(when)
    cid = flow.apply("p05", **P05)["id"]
    flow.through_unit(cid, "p05_hr", "liandu_agri", when)
    return cid


def test_p05_fraud_found_in_the_post_review_notice_is_vetoed_and_barred(flow):
    hours("p05", {y: (60, 30, 12) for y in range(2019, 2026)})
    cid = _apply_p05(flow, "2022-07-11")
    flow.at("2022-08-01")
    flow.do("agri_office", cid, "受理及资格审查", {"decision": "approve"})
    sid = flow.start_session("agri_office", "2022-08-26")["id"]
    flow.to_meeting("agri_office", sid, pre_notice="2022-08-02", report="2022-08-18", meeting="2022-08-26",
                    opinion_by="city_hr", opinion_on="2022-08-19")
    flow.meeting("agri_office", sid, {cid: 12})
    assert flow.post_notice("agri_office", sid, "2022-08-29") == "2022-09-02"
    flow.at("2022-08-31T10:00:00+08:00")
    notice = notices.get_notice(flow.instance(sid)["data"]["post_notice_id"])
    notices.submit_objection(notice.id, notice.entry_ids[0], "孙某", "13800000000",
                             "其业绩材料中的论文所载期刊当期并不存在，系伪造。", [])
    flow.at("2022-09-05")
    flow.timers()
    assert flow.instance(sid)["open_tasks"] == []  # publication waits for the objection
    flow.at("2022-09-20")
    flow.do("agri_office", cid, "调查核实并处理", {"findings": "经向期刊社核实，该期刊当期未刊载此文，系伪造业绩。",
                                              "conclusion": "fraud", "finding_type": "false_performance"})
    db.session.rollback()
    record = db.session.query(IntegrityRecord).one()
    assert (record.ban_until.isoformat(), record.record_until.isoformat()) == ("2025-09-20", "2025-09-20")
    flow.do("agri_office", sid, "报送公布申请", {"decision": "approve"})
    lst = db.session.query(Document).filter_by(instance_id=sid, kind="list_4_3", content_type=PDF).one()
    assert "徐志强" not in _text(lst)
    flow.do("city_hr", sid, "审核并发文公布", {"decision": "approve"})
    case = flow.instance(cid)
    assert case["data"]["outcome"] == "vetoed" and case["data"]["ban_until"] == "2025-09-20"
    assert "certificate_no" not in case["data"]
    assert flow.instance(sid)["data"]["passed"] == 0

    for when, barred in (("2024-07-01", True), ("2025-09-19", True), ("2025-09-22", False)):
        again = _apply_p05(flow, when)
        checked = flow.eligibility("agri_office", again)
        assert (checked["integrity_action"] == "reject_at_intake") is barred, when
        assert checked["eligible"] is (not barred), when
        if barred:
            assert "2025-09-20 起方可申报" in checked["integrity_reason"]
