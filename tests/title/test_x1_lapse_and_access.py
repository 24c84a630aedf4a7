"""X1 (DT-09: an applicant whose 人事关系 is outside the city needs an incoming 委托评审函), D14 (a
correction not made within 10 working days lapses), and organisation-scoped access."""

from __future__ import annotations

import io

from page_client import Browser
from title_flow import FORESTRY, P01, hours, org, person

from app.extensions import db

X1 = {"committee": FORESTRY, "target_title": "工程师", "specialty": "林业工程", "current_title": "助理工程师",
      "title_year": 2017, "education": "硕士", "application_mode": "正常申报", "years_in_m26": 0,
      "id_number": "330106198801011234", "phone": "13905780099", "affiliation_in_city": False}


def test_x1_pending_until_the_commission_letter_is_provided(flow):
    org("浙江省林业局", "competent_dept", "杭州市西湖区", "机关")
    org("浙江省林业科学研究院", "employer", "杭州市西湖区", "事业单位", "浙江省林业局")
    person("x1_dept", "省林业局审核员", "competent_dept", "浙江省林业局")
    db.session.commit()
    hours("x1", {y: (60, 30, 12) for y in range(2019, 2023)})
    flow.at("2022-07-11")
    cid = flow.apply("x1", **X1)["id"]
    flow.through_unit(cid, "x1_hr", "x1_dept", "2022-07-12")
    flow.at("2022-08-15")
    checked = flow.eligibility("forestry_office", cid)
    assert checked["jurisdiction"] == "pending" and checked["eligible"] is False
    assert checked["single_list"] is False  # neither a 26-county nor a Lishui city-level unit
    assert any("委托评审函" in r for r in checked["eligibility_reasons"])
    flow.do("forestry_office", cid, "受理及资格审查", {"decision": "return", "opinion": "请提供所在省直单位出具的委托评审函"})
    assert [t["name"] for t in flow.instance(cid)["open_tasks"]] == ["补正申报材料"]
    upload = flow.api("x1").client.post("/api/v1/documents", headers=flow.api("x1").headers,
                                        data={"file": (io.BytesIO(b"%PDF-1.4 letter"), "委托评审函.pdf")})
    assert upload.status_code == 201
    flow.do("x1", cid, "补正申报材料", {**X1, "commission_letter": [upload.get_json()["id"]]})
    flow.do("x1_hr", cid, "单位审核", {"decision": "approve"})  # the unit notice was done: straight on
    flow.do("x1_dept", cid, "主管部门审核", {"decision": "approve"})
    checked = flow.eligibility("forestry_office", cid)
    assert checked["jurisdiction"] == "accept" and checked["eligible"] is True
    assert flow.instance(cid)["data"]["return_count"] == 1


def test_d14_a_correction_not_made_in_ten_working_days_lapses(flow):
    hours("teacher1", {y: (60, 30, 12) for y in range(2019, 2023)})
    flow.at("2022-09-23")
    cid = flow.apply("teacher1", **P01)["id"]
    flow.do("school_hr", cid, "单位审核", {"decision": "return", "opinion": "1. 补充2021年度考核表；2. 论文检索证明"})
    task = flow.task("teacher1", cid, "补正申报材料")
    # 10 working days from Fri 23 Sep 2022 across National Day (1–7 Oct off, Sat 8 and Sun 9 worked): 12 Oct
    assert task["due_date"] == "2022-10-12"
    flow.at("2022-10-12T23:00:00+08:00")
    assert flow.timers() == 0
    flow.at("2022-10-13T00:00:00+08:00")
    assert flow.timers() == 1
    lapsed = flow.instance(cid)
    assert lapsed["status"] == "completed" and lapsed["data"]["outcome"] == "lapsed"
    assert flow.api("teacher1").tasks(instance_id=cid) == []


def test_an_employer_never_sees_another_employers_applicants(flow):
    hours("teacher1", {y: (60, 30, 12) for y in range(2019, 2023)})
    flow.at("2022-07-11")
    cid = flow.apply("teacher1", **P01)["id"]
    other = flow.api("liandu_co_hr")
    assert other.get(f"/api/v1/process-instances/{cid}").status_code == 403
    assert other.get(f"/api/v1/process-instances/{cid}/events").status_code == 403
    assert cid not in [i["id"] for i in other.get("/api/v1/process-instances").get_json()["items"]]
    assert other.tasks() == []
    task = flow.task("school_hr", cid, "单位审核")
    assert other.get(f"/api/v1/tasks/{task['id']}").status_code == 403
    assert other.complete(task["id"], {"decision": "approve"}).status_code == 403
    assert flow.api("school_hr").get(f"/api/v1/process-instances/{cid}").status_code == 200
    # nor through the pages
    outsider = Browser(flow.client.application, "liandu_co_hr")
    outsider.page(f"/instances/{cid}", status=403)
    outsider.page(f"/tasks/{task['id']}", status=403)
    assert "周晓岚" not in outsider.page("/inbox") and "周晓岚" not in outsider.page("/instances")
    assert "周晓岚" in Browser(flow.client.application, "school_hr").page("/inbox")
