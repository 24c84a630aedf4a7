"""The instance page's diagram marks for title-review cases: in the middle of the review, sent back
for correction (a loop), and lapsed (a cancelled task); the page, its JSON and who may read them."""

from __future__ import annotations

import json
import re

from page_client import Browser
from title_flow import P01, P01_HOURS, hours

from app.extensions import db
from app.models import ProcessInstance
from app.services import case_marks

# Everything a P01 case passes through 单位审核, 单位内公示, the notice timer and 主管部门审核.
THROUGH_DEPARTMENT = {
    "StartEvent_apply", "Task_register", "Gateway_route_merge", "Task_route", "Gateway_route",
    "Task_employer_review", "Gateway_employer", "Task_unit_notice", "Task_unit_notice_end", "Timer_unit_notice",
    "Task_unit_notice_result", "Gateway_unit_forward", "Task_notice_done", "Gateway_to_department",
    "Task_department_review", "Gateway_department", "Gateway_check_merge", "Task_check",
}


def marks_of(cid: int) -> dict[str, list[str]]:
    db.session.rollback()
    return case_marks.marks(db.session.get(ProcessInstance, cid))


def embedded(html: str, script_id: str):
    match = re.search(rf'<script type="application/json" id="{script_id}">(.*?)</script>', html, re.S)
    assert match, f"no {script_id}"
    return json.loads(match.group(1))


def test_a_case_at_the_eligibility_check_marks_what_it_passed_and_nothing_later(flow):
    hours("teacher1", P01_HOURS)
    flow.at("2022-07-11")
    cid = flow.apply("teacher1", **P01)["id"]
    flow.through_unit(cid, "school_hr", "liandu_edu", "2022-07-12")

    marks = marks_of(cid)
    assert set(marks["completed"]) == THROUGH_DEPARTMENT
    assert marks["active"] == ["Task_office_check"]
    assert marks["cancelled"] == [] and marks["error"] == []
    found = case_marks.compute(db.session.get(ProcessInstance, cid))
    assert found.counts["Task_employer_review"] == 1 and found.counts["Task_check"] == 1
    assert "Flow_Task_check_Task_office_check" in found.flows and "Flow_employer_return" not in found.flows
    assert not any(f.startswith("Flow_Task_office_check") for f in found.flows)

    manager = Browser(flow.client.application, "manager")
    response = manager.client.get(f"/instances/{cid}/diagram.json")
    assert response.status_code == 200
    body = response.get_json()
    assert body["marks"] == marks and 'id="Task_office_check"' in body["xml"]
    assert body["counts"]["Timer_unit_notice"] == 1

    html = manager.page(f"/instances/{cid}")
    assert '<div id="case-diagram"' in html
    assert embedded(html, "case-diagram-marks")["marks"] == marks
    assert 'id="Task_office_check"' in embedded(html, "case-diagram-xml")
    assert re.search(r'data-element-id="Task_office_check" data-mark="active"', html)
    assert re.search(r'data-element-id="Task_unit_notice" data-mark="completed"', html)
    assert 'data-element-id="Task_accepted"' not in html
    # each completed task's data as it was, the actors with their organisations, the deadlines
    completed = html.split('id="completed-tasks"', 1)[1].split("</section>", 1)[0]
    assert completed.count("<details") == 4  # 单位审核, 单位内公示, 公示结果及推荐意见, 主管部门审核
    assert "单位公告栏" in completed and "同意报送" in completed and "审核结论" in completed
    assert "莲都区教育局" in html.split('id="events"', 1)[1]
    deadlines = html.split('id="deadlines"', 1)[1].split("</section>", 1)[0]
    assert 'data-task-name="受理及资格审查"' in deadlines and "个工作日" in deadlines
    assert "下一次定时：无" in deadlines

    outsider = Browser(flow.client.application, "liandu_co_hr")
    assert outsider.client.get(f"/instances/{cid}/diagram.json").status_code == 403


def test_a_case_sent_back_for_correction_marks_the_loop(flow):
    hours("teacher1", P01_HOURS)
    flow.at("2022-07-11")
    cid = flow.apply("teacher1", **P01)["id"]
    flow.do("school_hr", cid, "单位审核", {"decision": "return", "opinion": "补充2021年度考核表"})
    marks = marks_of(cid)
    assert marks["active"] == ["Task_correct"]
    assert {"Task_employer_review", "Gateway_employer", "Gateway_return_merge"} <= set(marks["completed"])

    flow.do("teacher1", cid, "补正申报材料", dict(P01))
    marks = marks_of(cid)
    # back at the unit's review: done once before, where the case stands now
    assert marks["active"] == ["Task_employer_review"]
    assert "Task_employer_review" not in marks["completed"]
    assert {"Task_correct", "Task_resubmit", "Gateway_return_merge", "Gateway_route_merge"} <= set(marks["completed"])
    assert "Task_unit_notice" not in marks["completed"] + marks["active"]
    found = case_marks.compute(db.session.get(ProcessInstance, cid))
    assert found.counts["Task_employer_review"] == 1 and found.counts["Task_route"] == 2
    assert found.counts["Task_correct"] == 1
    assert "Flow_Gateway_return_merge_Task_correct" in found.flows

    flow.do("school_hr", cid, "单位审核", {"decision": "approve"})
    marks = marks_of(cid)
    assert marks["active"] == ["Task_unit_notice"]
    assert "Task_employer_review" in marks["completed"]
    assert case_marks.compute(db.session.get(ProcessInstance, cid)).counts["Task_employer_review"] == 2


def test_a_lapsed_correction_is_marked_cancelled(flow):
    hours("teacher1", P01_HOURS)
    flow.at("2022-09-23")
    cid = flow.apply("teacher1", **P01)["id"]
    flow.do("school_hr", cid, "单位审核", {"decision": "return", "opinion": "补充材料"})
    flow.at("2022-10-13T00:00:00+08:00")
    assert flow.timers() == 1

    marks = marks_of(cid)
    assert marks["cancelled"] == ["Task_correct"]
    assert marks["active"] == [] and marks["error"] == []
    assert {"Timer_correct_deadline", "Task_lapse", "End_lapsed"} <= set(marks["completed"])
    assert "Task_resubmit" not in marks["completed"]
    html = Browser(flow.client.application, "admin").page(f"/instances/{cid}")
    assert re.search(r'data-element-id="Task_correct" data-mark="cancelled"', html)
