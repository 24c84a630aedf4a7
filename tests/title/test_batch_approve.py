"""Batch approval (批量同意) from the inbox: several cases of one step at once, each in its own
transaction; refused for mixed steps, for steps whose form needs input, and without a CSRF token."""

from __future__ import annotations

import re

import pytest
from page_client import Browser, csrf_from
from sqlalchemy import select
from title_flow import P01, person

from app.extensions import db
from app.models import Event, HumanTask, ProcessVersion, User
from app.services import batch, registry

SCHOOL = "丽水市莲都区示范中学"
GRADUATE = {"education": "本科", "graduation_date": "2021-06-30", "work_start_date": "2021-07-01",
            "months_pre_degree": 0, "specialty": "数学教育", "requested_level": "助理级"}
CHECKBOX = re.compile(r'name="task_id" value="(\d+)" form="(batch-[^"]+)"')


def open_names(flow, cid: int) -> list[str]:
    return [t["name"] for t in flow.instance(cid)["open_tasks"]]


def unit_review(flow, cid: int) -> int:
    return flow.task("school_hr", cid, "单位审核")["id"]


def flashes(browser: Browser) -> list[str]:
    return re.findall(r'<div class="flash flash-\w+"[^>]*>(.*?)</div>', browser.page("/inbox"), re.S)


def test_batch_approve_moves_each_case_on_and_reports_one_done_meanwhile(flow):
    flow.at("2022-07-11")
    cases = [flow.apply(username, **P01)["id"] for username in ("teacher1", "t2", "t3")]
    ids = [unit_review(flow, cid) for cid in cases]
    hr = Browser(flow.client.application, "school_hr")
    inbox = hr.page("/inbox")
    offered = dict((int(i), form) for i, form in CHECKBOX.findall(inbox))
    assert set(offered) == set(ids) and len(set(offered.values())) == 1
    assert "批量同意所选任务" in inbox and "单位审核" in inbox.split('id="batch-approve"', 1)[1]

    flow.do("school_hr", cases[2], "单位审核", {"decision": "approve"})  # meanwhile, one by one
    response = hr.client.post("/tasks/batch-approve", data={
        "csrf_token": csrf_from(inbox), "task_id": [str(i) for i in ids], "opinion": "材料齐全，同意推荐",
        "back": "/inbox?sort=due"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/inbox?sort=due")
    messages = flashes(hr)
    assert "已同意 2 项" in messages
    assert any("未办理" in m and "办理完毕" in m for m in messages), messages

    for cid in cases:
        assert open_names(flow, cid) == ["单位内公示"], cid
    db.session.rollback()
    hr_id = db.session.scalar(select(User.id).where(User.username == "school_hr"))
    for task_id in ids[:2]:
        task = db.session.get(HumanTask, task_id)
        assert (task.state, task.completed_by_id) == ("completed", hr_id)
        [done] = db.session.scalars(select(Event).where(Event.type == "task_completed", Event.task_id == task_id))
        assert done.details["data"]["decision"] == "approve"
        assert done.details["data"]["opinion"] == "材料齐全，同意推荐"
    # the task completed one by one kept its own (empty) opinion
    [single] = db.session.scalars(select(Event).where(Event.type == "task_completed", Event.task_id == ids[2]))
    assert single.details["data"].get("opinion") is None


def test_a_task_claimed_by_a_colleague_is_reported_and_the_rest_done(flow):
    person("school_hr2", "示范中学人事 王芳", "employer_hr", SCHOOL)
    db.session.commit()
    flow.at("2022-07-11")
    cases = [flow.apply(username, **P01)["id"] for username in ("teacher1", "t2")]
    ids = [unit_review(flow, cid) for cid in cases]
    assert flow.api("school_hr2").post(f"/api/v1/tasks/{ids[1]}/claim").status_code == 200
    hr = Browser(flow.client.application, "school_hr")
    inbox = hr.page("/inbox")
    assert [int(i) for i, _ in CHECKBOX.findall(inbox)] == [ids[0]]  # not offered: a colleague holds it
    response = hr.client.post("/tasks/batch-approve", data={"csrf_token": csrf_from(inbox),
                                                            "task_id": [str(i) for i in ids]})
    assert response.status_code == 302
    messages = flashes(hr)
    assert "已同意 1 项" in messages and any("示范中学人事 王芳" in m and "认领" in m for m in messages)
    assert open_names(flow, cases[0]) == ["单位内公示"] and open_names(flow, cases[1]) == ["单位审核"]


@pytest.fixture()
def two_steps(flow):
    """school_hr holds a 单位审核 (title review) and a 用人单位考核 (a graduate of the school)."""
    person("grad_school", "赵晨", "applicant", SCHOOL)
    db.session.commit()
    flow.at("2022-07-11")
    title_case = flow.apply("teacher1", **P01)["id"]
    response = flow.api("grad_school").post("/api/v1/process-instances", json={
        "process_model": "graduate_initial_determination", "data": GRADUATE})
    assert response.status_code == 201, response.get_json()
    grad_case = response.get_json()["id"]
    return {"title": title_case, "title_task": unit_review(flow, title_case), "grad": grad_case,
            "grad_task": flow.task("school_hr", grad_case, "用人单位考核")["id"]}


def test_mixed_steps_non_batchable_steps_and_missing_tokens_are_refused(flow, two_steps):
    hr = Browser(flow.client.application, "school_hr")
    inbox = hr.page("/inbox")
    forms = dict((int(i), form) for i, form in CHECKBOX.findall(inbox))
    assert set(forms) == {two_steps["title_task"], two_steps["grad_task"]}
    assert forms[two_steps["title_task"]] != forms[two_steps["grad_task"]]  # one batch form per step

    def batch_post(ids, token=True, **extra):
        data = {"task_id": [str(i) for i in ids], **extra}
        if token:
            data["csrf_token"] = csrf_from(hr.page("/inbox"))
        return hr.client.post("/tasks/batch-approve", data=data)

    mixed = batch_post([two_steps["title_task"], two_steps["grad_task"]])
    assert mixed.status_code == 422 and "一次只能批量同意同一环节的任务" in mixed.get_data(as_text=True)
    assert batch_post([], ).status_code == 422
    too_many = batch_post(range(1, 102))
    assert too_many.status_code == 422 and "最多批量办理 100 项" in too_many.get_data(as_text=True)
    no_token = batch_post([two_steps["grad_task"]], token=False)
    assert no_token.status_code == 400
    assert open_names(flow, two_steps["title"]) == ["单位审核"]
    assert open_names(flow, two_steps["grad"]) == ["用人单位考核"]

    # 单位内公示 needs its dates: no checkbox, and refused when posted anyway.
    flow.do("school_hr", two_steps["title"], "单位审核", {"decision": "approve"})
    notice = flow.task("school_hr", two_steps["title"], "单位内公示")["id"]
    assert notice not in [int(i) for i, _ in CHECKBOX.findall(hr.page("/inbox"))]
    refused = batch_post([notice])
    assert refused.status_code == 422 and "不能批量同意" in refused.get_data(as_text=True)
    assert open_names(flow, two_steps["title"]) == ["单位内公示"]

    # The graduate's step alone goes through; the case waits for its quarterly batch.
    assert batch_post([two_steps["grad_task"]]).status_code == 302
    assert flow.instance(two_steps["grad"])["status"] == "waiting"


def version(process_id: str) -> ProcessVersion:
    return registry.for_new_instances(process_id)


@pytest.mark.parametrize("process_id, bpmn_id, allowed", [
    ("title_application", "Task_employer_review", True),     # 单位审核: review_decision
    ("title_application", "Task_department_review", True),   # 主管部门审核
    ("title_application", "Task_office_check", False),       # approve only where the rules pass (enumFrom)
    ("title_application", "Task_unit_notice", False),        # notice dates required
    ("title_application", "Task_unit_notice_result", False),  # notice result required
    ("title_application", "Task_correct", False),            # the applicant's form, no decision
    ("graduate_initial_determination", "Task_employer_assess", True),  # 用人单位考核
    ("graduate_initial_determination", "Task_bureau_review", False),   # approving needs the level
    ("review_session", "Task_filing", True),                 # 评审准备情况备案: decision only
    ("review_session", "Task_meeting", False),               # the vote panel takes input
])
def test_which_bundled_steps_allow_batch_approval(world, process_id, bpmn_id, allowed):
    assert batch.step_allows_batch(version(process_id), bpmn_id) is allowed
