"""The title review in headless Chromium: an applicant applies, the unit approves and runs its
notice, the department approves, and the committee office sees the case with every rule's result."""

from __future__ import annotations

from browsing import at, login, logout
from sqlalchemy import select

from app.extensions import db
from app.models import User
from app.services import archives, ce, timers


def _user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def _ready_teacher() -> None:
    """teacher1 with registered hours and an archive her unit has audited."""
    at("2022-07-01T09:00:00+08:00")
    teacher = _user("teacher1")
    ce.upsert(_user("liandu_hr"), [{"username": "teacher1", "year": y, "professional": 60, "public": 30,
                                    "general_public": 12} for y in range(2019, 2023)])
    archives.add_achievement(teacher, {"kind": "论文", "title": "初中数学分层作业设计研究", "achieved_on": "2021-05-01",
                                       "description": "省级期刊", "attachments": []})
    archives.submit_for_audit(teacher)
    archives.audit(_user("school_hr"), teacher.id, "approve", "属实")


def act(page, base: str, task_name: str) -> None:
    """Open the task from the inbox (claiming it when it is a group task)."""
    page.goto(f"{base}/inbox")
    row = page.locator(f"tr[data-task-name='{task_name}']").first
    if row.locator("button:has-text('认领')").count():
        row.locator("button:has-text('认领')").click()
        page.wait_for_load_state()
        row = page.locator(f"tr[data-task-name='{task_name}']").first
    row.locator("a:has-text('办理')").click()
    page.wait_for_load_state()


def test_apply_unit_and_department_approve_office_sees_the_rules(live_server, chromium):
    _ready_teacher()
    at("2022-07-11T09:00:00+08:00")
    server = live_server()
    page = chromium.new_context(locale="zh-CN").new_page()
    login(page, server, "teacher1")
    page.goto(f"{server}/start/title_application")
    page.select_option("select[name=committee]", "莲都区中小学教师中级专业技术职务任职资格评审委员会")
    page.select_option("select[name=target_title]", "一级教师")
    page.fill("input[name=specialty]", "中小学教师")
    page.fill("input[name=current_title]", "二级教师")
    page.fill("input[name=title_year]", "2017")
    page.select_option("select[name=education]", "本科")
    page.fill("input[name=years_in_m26]", "8")
    page.fill("input[name=id_number]", "33250119900101123X")
    page.fill("input[name=phone]", "0578-2123456")
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{server}/instances/*")
    assert "申请已提交" in page.content() and "用人单位审核" in page.inner_text("main")
    logout(page)

    login(page, server, "school_hr")
    act(page, server, "单位审核")
    assert "业绩档案" in page.inner_text("#panel-applicant_profile") and "已审核" in page.content()
    page.check("input[name=decision][value=approve]")
    page.click("main form button.btn-primary")
    page.wait_for_url(f"{server}/instances/*")
    act(page, server, "单位内公示")
    page.fill("input[name=notice_start]", "2022-07-12")
    page.click("main form button.btn-primary")
    page.wait_for_url(f"{server}/instances/*")
    assert "单位内公示中（至 2022-07-18）" in page.inner_text("main")
    at("2022-07-19T09:00:00+08:00")
    assert timers.run_due_timers() == 1
    act(page, server, "公示结果及推荐意见")
    page.check("input[name=notice_result][value=no_objection]")
    page.check("input[name=decision][value=approve]")
    page.click("main form button.btn-primary")
    page.wait_for_url(f"{server}/instances/*")
    logout(page)

    login(page, server, "liandu_edu")
    act(page, server, "主管部门审核")
    page.check("input[name=decision][value=approve]")
    page.click("main form button.btn-primary")
    page.wait_for_url(f"{server}/instances/*")
    logout(page)

    login(page, server, "edu_office")
    assert "受理及资格审查" in page.inner_text("#group-tasks") and "周晓岚" in page.inner_text("#group-tasks")
    act(page, server, "受理及资格审查")
    rules = page.inner_text("#eligibility")
    assert "全部规则通过" in page.content() and "继续教育学时（DT-01、DT-02）" in rules and "单列评审" in rules
