"""Administrators' actions on a case (suspend, resume, terminate, reset, correct data) through the
API and the pages: the effect, the audit event with its reason, who may act, and what is refused."""

from __future__ import annotations

import pytest
from api_client import Api
from page_client import Browser
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from app.extensions import db
from app.models import Event, HumanTask, InstanceCheckpoint, ProcessInstance, ProcessVersion
from app.services import case_marks

LIANDU = {"education": "大专", "graduation_date": "2019-06-30", "work_start_date": "2019-07-01",
          "months_pre_degree": 0, "specialty": "机械设计", "requested_level": "助理级"}
BASE = "/api/v1/process-instances"


class Case:
    """A 莲都区 graduate's case (grad_liandu at 丽水市莲都区云峰科技有限公司), driven through the API."""

    def __init__(self, client):
        self.client = client
        self.apis: dict[str, Api] = {}
        self.at("2022-07-15T09:00:00+08:00")
        response = self.api("grad_liandu").post(BASE, json={"process_model": "graduate_initial_determination",
                                                            "data": LIANDU})
        assert response.status_code == 201, response.get_json()
        self.id = response.get_json()["id"]

    def api(self, username: str) -> Api:
        db.session.rollback()  # read what the requests committed
        if username not in self.apis:
            self.apis[username] = Api(self.client, username)
        return self.apis[username]

    def at(self, when: str) -> None:
        assert self.api("admin").put("/api/v1/clock", json={"now": when}).status_code == 200

    def timers(self) -> int:
        return self.api("admin").post("/api/v1/timers/run").get_json()["fired"]

    def get(self) -> dict:
        return self.api("admin").get(f"{BASE}/{self.id}").get_json()

    def task(self, username: str) -> dict:
        [task] = self.api(username).tasks(instance_id=self.id)
        return task

    def complete(self, username: str, data: dict):
        return self.api(username).complete(self.task(username)["id"], data)

    def act(self, action: str, body: dict, username: str = "admin"):
        return self.api(username).post(f"{BASE}/{self.id}/{action}", json=body)

    def events(self, kind: str) -> list[Event]:
        db.session.rollback()
        return list(db.session.scalars(select(Event).where(Event.instance_id == self.id, Event.type == kind)
                                       .order_by(Event.id)))

    def row(self) -> ProcessInstance:
        db.session.rollback()
        return db.session.get(ProcessInstance, self.id)


@pytest.fixture()
def case(ctx):
    return Case(ctx.test_client())


def test_suspend_blocks_completion_and_timers_until_resumed(case):
    response = case.act("suspend", {"reason": "  申请人反映材料有误，暂停核查  "})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "suspended"
    [event] = case.events("instance_suspended")
    assert event.details["reason"] == "申请人反映材料有误，暂停核查" and event.actor.username == "admin"
    assert event.details["before"] == {"status": "running"} and event.details["after"] == {"status": "suspended"}
    refused = case.complete("liandu_co_hr", {"decision": "approve"})
    assert refused.status_code == 409 and "挂起" in refused.get_json()["error"]["message"]
    assert case.act("suspend", {"reason": "再次挂起"}).status_code == 409

    assert case.act("resume", {"reason": "核查完毕"}).get_json()["status"] == "running"
    assert case.complete("liandu_co_hr", {"decision": "approve"}).status_code == 200
    assert case.get()["status"] == "waiting"
    assert case.act("suspend", {"reason": "批次前暂停"}).status_code == 200
    case.at("2022-08-10T08:00:00+08:00")
    assert case.timers() == 0  # the batch timer is due but the case is suspended
    assert case.get()["open_tasks"] == []
    resumed = case.act("resume", {"reason": "恢复办理"})
    assert resumed.get_json()["status"] == "waiting"
    [_, second] = case.events("instance_resumed")
    assert second.details["after"] == {"status": "waiting"} and second.details["reason"] == "恢复办理"
    assert case.timers() == 1
    assert [t["name"] for t in case.get()["open_tasks"]] == ["初定审核"]


def test_only_administrators_act_and_always_with_a_reason(case):
    for username in ("manager", "liandu_co_hr", "grad_liandu"):
        response = case.act("suspend", {"reason": "想暂停"}, username=username)
        assert response.status_code == 403 and "系统管理员" in response.get_json()["error"]["message"]
    manager = Browser(case.client.application, "manager")
    manager.page(f"/instances/{case.id}/admin/suspend", status=403)
    assert 'id="case-admin-actions"' not in manager.page(f"/instances/{case.id}")

    for body in ({}, {"reason": "   "}, {"reason": None}, {"reason": "长" * 501}):
        response = case.act("terminate", body)
        assert response.status_code == 422, body
        assert set(response.get_json()["error"]["fields"]) == {"reason"}
    assert case.get()["status"] == "running" and case.events("instance_terminated") == []

    admin = Browser(case.client.application, "admin")
    page = admin.page(f"/instances/{case.id}")
    assert 'data-action="suspend"' in page and 'data-action="resume"' not in page
    url = f"/instances/{case.id}/admin/terminate"
    no_reason = admin.submit(url, {"reason": "", "confirm": "yes"})
    assert no_reason.status_code == 422 and "请填写操作原因" in no_reason.get_data(as_text=True)
    unconfirmed = admin.submit(url, {"reason": "重复申请"})
    assert unconfirmed.status_code == 422 and "请勾选确认" in unconfirmed.get_data(as_text=True)
    assert case.get()["status"] == "running"
    spec = case.api("admin").get("/api/v1/openapi.json").get_json()["paths"]
    assert {f"{BASE}/{{id}}/{a}" for a in ("suspend", "resume", "terminate", "reset", "correct")} <= set(spec)


def test_terminate_cancels_the_open_tasks_and_is_final(case):
    assert case.complete("liandu_co_hr", {"decision": "return", "opinion": "缺社保证明"}).status_code == 200
    assert case.row().next_timer_at is not None  # the correction deadline
    admin = Browser(case.client.application, "admin")
    page = admin.page(f"/instances/{case.id}/admin/terminate")
    assert "不可撤销" in page
    done = admin.submit(f"/instances/{case.id}/admin/terminate", {"reason": "申请人书面撤回申请", "confirm": "yes"})
    assert done.status_code == 302, done.get_data(as_text=True)[:2000]

    row = case.row()
    assert row.status == "terminated" and row.next_timer_at is None
    tasks = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == case.id)).all()
    assert {t.state for t in tasks} == {"completed", "cancelled"} and not [t for t in tasks if t.state == "open"]
    [cancelled] = case.events("task_cancelled")
    assert cancelled.actor.username == "admin" and cancelled.bpmn_id == "Task_revise"
    [event] = case.events("instance_terminated")
    assert event.details["reason"] == "申请人书面撤回申请"
    assert [t["name"] for t in event.details["before"]["open_tasks"]] == ["修改申请"]
    assert case_marks.marks(row)["cancelled"] == ["Task_revise"] and case_marks.marks(row)["active"] == []

    assert case.api("grad_liandu").tasks(instance_id=case.id) == []
    case.at("2022-12-01T09:00:00+08:00")
    assert case.timers() == 0
    for action in ("terminate", "resume", "suspend", "correct"):
        response = case.act(action, {"reason": "再试", "data": {"specialty": "x"}})
        assert response.status_code == 409, action
    assert "终止" in admin.page(f"/instances/{case.id}")


def test_reset_to_an_earlier_task_and_the_case_runs_to_completion(case):
    assert case.complete("liandu_co_hr", {"decision": "approve", "opinion": "属实"}).status_code == 200
    case.at("2022-08-10T08:00:00+08:00")
    assert case.timers() == 1
    review = case.task("liandu_hr")
    assessed = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == case.id,
                                                         HumanTask.bpmn_id == "Task_employer_assess"))
    admin = Browser(case.client.application, "admin")
    page = admin.page(f"/instances/{case.id}/admin/reset")
    assert f'data-task-id="{assessed.id}"' in page and "不会撤销" in page

    done = admin.submit(f"/instances/{case.id}/admin/reset",
                        {"task_id": str(assessed.id), "reason": "用人单位考核意见填写有误，退回重新考核", "confirm": "yes"})
    assert done.status_code == 302, done.get_data(as_text=True)[:2000]
    body = case.get()
    assert body["status"] == "running" and [t["name"] for t in body["open_tasks"]] == ["用人单位考核"]
    assert body["open_tasks"][0]["id"] != assessed.id
    assert db.session.get(HumanTask, review["id"]).state == "cancelled"
    [event] = case.events("instance_reset")
    assert event.details["reason"] == "用人单位考核意见填写有误，退回重新考核" and event.task_id == assessed.id
    assert [t["name"] for t in event.details["before"]["open_tasks"]] == ["初定审核"]
    assert [t["name"] for t in event.details["after"]["open_tasks"]] == ["用人单位考核"]
    assert "batch" not in body["data"]  # the data as it was when the task became ready

    assert case.complete("liandu_co_hr", {"decision": "approve", "opinion": "重新考核属实"}).status_code == 200
    # the August batch has opened already: the review is there at once
    assert [t["name"] for t in case.get()["open_tasks"]] == ["初定审核"]
    result = case.complete("liandu_hr", {"decision": "approve", "approved_level": "助理级"})
    assert result.status_code == 200, result.get_json()
    final = case.get()
    assert final["status"] == "completed" and final["data"]["outcome"] == "approved"
    assert case.act("reset", {"reason": "再退回", "task_id": assessed.id}).status_code == 409


def test_reset_refuses_tasks_it_cannot_go_back_to(case):
    open_task = case.task("liandu_co_hr")
    for task_id in (None, "abc", open_task["id"], 999999):
        response = case.act("reset", {"reason": "退回", "task_id": task_id})
        assert response.status_code == 422, task_id
        assert "task_id" in response.get_json()["error"]["fields"]
    assert case.complete("liandu_co_hr", {"decision": "approve"}).status_code == 200
    # a checkpoint of another version (the case was migrated since): refused with a clear message
    other = db.session.scalar(select(ProcessVersion).where(ProcessVersion.process_id == "title_application"))
    done = db.session.get(HumanTask, open_task["id"])
    db.session.get(InstanceCheckpoint, done.checkpoint_id).version_id = other.id
    db.session.commit()
    response = case.act("reset", {"reason": "退回", "task_id": open_task["id"]})
    assert response.status_code == 422 and "已迁移" in response.get_json()["error"]["message"]
    assert case.events("instance_reset") == []
    page = Browser(case.client.application, "admin").page(f"/instances/{case.id}/admin/reset")
    assert f'value="{open_task["id"]}" id="task-{open_task["id"]}" disabled' in page


def test_correcting_data_changes_result_fields_and_where_a_later_step_goes(case):
    wrong = {"months_pre_degree": ["abc"], "education": ["博士后"], "unknown_field": [1], "graduation_date": ["2019-13-01"]}
    for field, (value,) in wrong.items():
        response = case.act("correct", {"reason": "更正", "data": {field: value}})
        assert response.status_code == 422, field
        assert list(response.get_json()["error"]["fields"]) == [f"data.{field}"]
    for data in ({}, None, {"requested_level": "助理级"}):
        assert case.act("correct", {"reason": "更正", "data": data}).status_code == 422
    response = case.act("correct", {"reason": "申请人申报级别填写错误，应为中级", "data": {"requested_level": "中级",
                                                                            "months_pre_degree": "3"}})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["data"]["requested_level"] == "中级"
    assert response.get_json()["data"]["months_pre_degree"] == 3
    [event] = case.events("data_corrected")
    assert event.details["before"] == {"requested_level": "助理级", "months_pre_degree": 0}
    assert event.details["after"] == {"requested_level": "中级", "months_pre_degree": 3}
    assert event.details["reason"] == "申请人申报级别填写错误，应为中级"

    approved = case.complete("liandu_co_hr", {"decision": "approve"}).get_json()
    # DT-11: a county's 中级 is reviewed by the city bureau (助理级 would have stayed in 莲都区)
    assert approved["data"]["reviewer_org"] == "丽水市人力资源和社会保障局"
    case.at("2022-08-10T08:00:00+08:00")
    assert case.timers() == 1
    assert case.api("liandu_hr").tasks(instance_id=case.id) == []
    assert case.task("city_hr")["name"] == "初定审核"


def test_correcting_data_through_the_page_sends_only_what_was_changed(case):
    admin = Browser(case.client.application, "admin")
    page = admin.page(f"/instances/{case.id}/admin/correct")
    assert 'name="data.specialty" value="机械设计"' in page and 'data-field="requested_level"' in page
    response = admin.submit(f"/instances/{case.id}/admin/correct", {
        "data.specialty": "机械设计制造", "data.requested_level": "助理级", "data.months_pre_degree": "0",
        "reason": "专业名称以毕业证书为准", "confirm": "yes"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert case.get()["data"]["specialty"] == "机械设计制造"
    [event] = case.events("data_corrected")
    assert event.details["after"] == {"specialty": "机械设计制造"}
    bad = admin.submit(f"/instances/{case.id}/admin/correct", {
        "data.months_pre_degree": "三个月", "reason": "更正", "confirm": "yes"})
    assert bad.status_code == 422 and "应为整数" in bad.get_data(as_text=True)
    assert "专业名称以毕业证书为准" in admin.page(f"/instances/{case.id}")  # the reason in the timeline


def test_a_concurrent_change_is_a_conflict_and_nothing_is_saved(case, monkeypatch):
    from app.services import case_admin

    def stale(*args, **kwargs):
        raise StaleDataError("instance changed meanwhile")

    monkeypatch.setattr(case_admin.cases, "save", stale)
    response = case.act("correct", {"reason": "更正", "data": {"specialty": "园艺"}})
    assert response.status_code == 409 and "同时修改" in response.get_json()["error"]["message"]
    assert case.get()["data"]["specialty"] == "机械设计" and case.events("data_corrected") == []
