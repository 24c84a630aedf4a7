"""The instance page's diagram in Chromium: bpmn-js imports the case's process and marks where it stands."""

from __future__ import annotations

from browsing import at, login
from sqlalchemy import select

from app.extensions import db
from app.models import User
from app.services import instances, tasks


def test_the_instance_page_shows_the_diagram_with_marks(live_server, chromium):
    at("2022-07-15T09:00:00+08:00")
    grad = db.session.scalar(select(User).where(User.username == "grad_liandu"))
    case = instances.start_instance(grad, "graduate_initial_determination", {
        "education": "大专", "graduation_date": "2019-06-30", "work_start_date": "2019-07-01",
        "months_pre_degree": 0, "specialty": "机械设计", "requested_level": "助理级"})
    employer = db.session.scalar(select(User).where(User.username == "liandu_co_hr"))
    [task] = tasks.open_tasks_for(employer, case.id)
    tasks.complete_task(employer, task.id, {"decision": "return", "opinion": "缺社保证明"})
    cid = case.id
    server = live_server()
    page = chromium.new_context(locale="zh-CN").new_page()
    login(page, server, "manager")
    page.goto(f"{server}/instances/{cid}")
    page.wait_for_selector("#case-diagram[data-ready='1']")
    diagram = page.locator("#case-diagram")
    assert diagram.locator("g.djs-element.mark-active[data-element-id='Task_revise']").count() == 1
    assert diagram.locator("g.djs-element.mark-completed[data-element-id='Task_employer_assess']").count() == 1
    assert diagram.locator("g.djs-element.mark-completed[data-element-id='StartEvent_apply']").count() == 1
    assert diagram.locator("g.djs-connection.mark-completed").count() >= 3
    assert diagram.locator("g.mark-active").count() == 1
    assert diagram.locator("g.djs-element[data-element-id='Task_bureau_review'].mark-completed").count() == 0
    assert "已完成 1 次" in diagram.locator("g[data-element-id='Task_employer_assess'] title").first.text_content()
