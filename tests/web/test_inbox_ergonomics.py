"""The inbox's filters, its order by due date, due states as the clock moves; delegation (转办)."""

from __future__ import annotations

import re

import pytest
from api_client import Api
from page_client import TASK_ROW, Browser
from sqlalchemy import select

from app.extensions import db
from app.models import Event, HumanTask, Notification, Organisation, User, UserRole
from app.services.auth import hash_password

START = {"education": "本科", "graduation_date": "2021-06-30", "work_start_date": "2021-07-01",
         "months_pre_degree": 0, "specialty": "农学", "requested_level": "助理级"}
INSTITUTE = "丽水市农林科学研究院"
PASSWORD = "demo-pass-2026"


def set_clock(admin: Api, value: str) -> None:
    response = admin.put("/api/v1/clock", json={"now": value if "T" in value else f"{value}T09:00:00+08:00"})
    assert response.status_code == 200, response.get_json()


def start(api: Api, level: str) -> int:
    response = api.post("/api/v1/process-instances",
                        json={"process_model": "graduate_initial_determination",
                              "data": {**START, "requested_level": level}})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def task_of(instance_id: int) -> HumanTask:
    db.session.rollback()
    return db.session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                     HumanTask.state == "open"))


def rows(html: str, table: str = "group-tasks") -> list[int]:
    section = html.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    return [int(i) for _, i in TASK_ROW.findall(section)]


def row_html(html: str, task_id: int) -> str:
    return html.split(f'data-task-id="{task_id}">', 1)[1].split("</tr>", 1)[0]


@pytest.fixture()
def cases(ctx):
    """Three graduate cases waiting for the institute's 用人单位考核, started on different days so
    their due dates differ (5 working days each): 员级 due 07-18, 助理级 07-20, 中级 07-22.
    Started out of order, so the order of ids is not the order of due dates."""
    client = ctx.test_client()
    admin, grad = Api(client, "admin"), Api(client, "grad_city")
    started = {}
    for day, level in (("2022-07-15", "中级"), ("2022-07-11", "员级"), ("2022-07-13", "助理级")):
        set_clock(admin, day)
        started[level] = start(grad, level)
    tasks = {level: task_of(cid).id for level, cid in started.items()}
    return {"admin": admin, "tasks": tasks, "instances": started}


def test_the_inbox_is_sorted_by_due_date_and_shows_working_days_left(ctx, cases):
    t = cases["tasks"]
    set_clock(cases["admin"], "2022-07-11T10:00:00+08:00")
    hr = Browser(ctx, "institute_hr")
    html = hr.page("/inbox")
    assert rows(html) == [t["员级"], t["助理级"], t["中级"]]
    assert 'data-due="2022-07-18"' in row_html(html, t["员级"]) and "剩 5 个工作日" in row_html(html, t["员级"])
    assert 'data-due="2022-07-22"' in row_html(html, t["中级"])
    assert rows(hr.page("/inbox?sort=due&dir=desc")) == [t["中级"], t["助理级"], t["员级"]]
    # by creation: the 员级 case was started first (the clock was set back for it)
    assert rows(hr.page("/inbox?sort=created")) == [t["员级"], t["助理级"], t["中级"]]
    assert rows(hr.page("/inbox?sort=created&dir=desc")) == [t["中级"], t["助理级"], t["员级"]]

    # A task without a due date (created before deadlines existed) comes last in both directions.
    db.session.rollback()  # a fresh snapshot: the requests have written since
    db.session.get(HumanTask, t["助理级"]).due_date = None
    db.session.commit()
    assert rows(hr.page("/inbox")) == [t["员级"], t["中级"], t["助理级"]]
    assert rows(hr.page("/inbox?dir=desc")) == [t["中级"], t["员级"], t["助理级"]]
    assert rows(hr.page("/inbox?due=none")) == [t["助理级"]]

    # Claimed tasks move to 我的任务 and keep the same order there.
    for level in ("中级", "员级"):
        assert hr.submit(f"/tasks/{t[level]}/claim", token_from="/inbox").status_code == 302
    html = hr.page("/inbox")
    assert rows(html, "my-tasks") == [t["员级"], t["中级"]] and rows(html) == [t["助理级"]]


def test_overdue_tasks_are_flagged_and_counted_once_the_clock_moves(ctx, cases):
    t, admin = cases["tasks"], cases["admin"]
    hr = Browser(ctx, "institute_hr")
    set_clock(admin, "2022-07-19")  # Tuesday: 员级 was due yesterday, 助理级 is due tomorrow
    html = hr.page("/inbox")
    assert re.search(r'id="overdue-count">1<', html) and re.search(r'id="due-today-count">0<', html)
    late = row_html(html, t["员级"])
    assert 'class="due due-overdue"' in late and "已逾期" in late and "逾期 1 个工作日" in late
    soon = row_html(html, t["助理级"])
    assert 'class="due due-soon"' in soon and "即将到期" in soon and "剩 1 个工作日" in soon
    assert 'class="due"' in row_html(html, t["中级"])  # 3 working days left: beyond the reminder window
    assert rows(hr.page("/inbox?due=overdue")) == [t["员级"]]
    assert rows(hr.page("/inbox?due=week")) == [t["助理级"], t["中级"]]

    set_clock(admin, "2022-07-20")
    html = hr.page("/inbox?due=today")
    assert rows(html) == [t["助理级"]] and "今日到期" in row_html(html, t["助理级"])
    assert re.search(r'id="due-today-count">1<', html)

    # Over the weekend the 中级 task (due Friday 07-22) turns overdue too.
    set_clock(admin, "2022-07-23")
    html = hr.page("/inbox")
    assert re.search(r'id="overdue-count">3<', html)
    assert "已逾期" in row_html(html, t["中级"])


def test_filters_by_process_task_and_text(ctx, cases):
    t = cases["tasks"]
    hr = Browser(ctx, "institute_hr")
    assert rows(hr.page("/inbox?q=中级")) == [t["中级"]]
    assert rows(hr.page("/inbox?q=林若溪")) == [t["员级"], t["助理级"], t["中级"]]  # the applicant's name
    assert rows(hr.page("/inbox?q=不存在的人")) == []
    assert rows(hr.page("/inbox?q=%25")) == []  # a LIKE wildcard is searched for literally
    assert rows(hr.page("/inbox?process=graduate_initial_determination&task=用人单位考核")) == [
        t["员级"], t["助理级"], t["中级"]]
    assert rows(hr.page("/inbox?process=title_application")) == []
    assert rows(hr.page("/inbox?task=初定审核")) == []
    html = hr.page("/inbox?q=中级")
    assert 'value="中级"' in html and "清除条件" in html
    # Another unit sees none of them, whatever it searches.
    assert rows(Browser(ctx, "liandu_co_hr").page("/inbox?q=林若溪")) == []


@pytest.mark.parametrize("query", ["due=later", "sort=priority", "dir=up", "q=" + "长" * 101])
def test_bad_filter_parameters_give_a_message_not_an_error(ctx, cases, query):
    hr = Browser(ctx, "institute_hr")
    html = hr.page(f"/inbox?{query}", status=400)
    assert "筛选条件有误" in html
    assert len(rows(html)) == 3  # the unfiltered inbox is still shown


# -- delegation (转办) ---------------------------------------------------------------------------
def colleague(username: str, display: str, role: str = "employer_hr", org: str = INSTITUTE) -> User:
    db.session.rollback()
    owner = db.session.scalar(select(Organisation).where(Organisation.name == org))
    user = User(username=username, display_name=display, password_hash=hash_password(PASSWORD), org_id=owner.id)
    user.roles.append(UserRole(role=role, org_id=owner.id))
    db.session.add(user)
    db.session.commit()
    return user


def test_a_task_is_delegated_to_a_colleague_who_completes_it(ctx, cases):
    task_id = cases["tasks"]["员级"]
    colleague("institute_hr2", "农林科学研究院人事 孙悦")
    hr = Browser(ctx, "institute_hr")
    page = hr.page(f"/tasks/{task_id}")
    choices = re.findall(r'<option value="([^"]+)">', page.split('id="delegate-form"', 1)[1].split("</form>", 1)[0])
    assert choices == ["institute_hr2"]  # not oneself, not the applicant of the same unit

    response = hr.submit(f"/tasks/{task_id}/delegate", {"to": "institute_hr2"}, token_from=f"/tasks/{task_id}")
    assert response.status_code == 302
    db.session.rollback()
    task = db.session.get(HumanTask, task_id)
    actor = db.session.scalar(select(User).where(User.username == "institute_hr"))
    other = db.session.scalar(select(User).where(User.username == "institute_hr2"))
    assert (task.claimed_by_id, task.delegated_by_id) == (other.id, actor.id)
    [event] = db.session.scalars(select(Event).where(Event.type == "task_delegated", Event.task_id == task_id))
    assert event.actor_id == actor.id
    assert (event.details["from"], event.details["to"]) == ("institute_hr", "institute_hr2")
    [notice] = db.session.scalars(select(Notification).where(Notification.kind == "delegated"))
    assert (notice.user_id, notice.task_id, notice.instance_id) == (other.id, task_id, task.instance_id)

    # The delegator no longer holds it and cannot hand it on.
    assert task_id not in [i for _, i in hr.inbox()["mine"]]
    again = hr.submit(f"/tasks/{task_id}/delegate", {"to": "institute_hr2"}, token_from="/inbox")
    assert again.status_code == 409

    mate = Browser(ctx, "institute_hr2")
    assert ("用人单位考核", task_id) in mate.inbox()["mine"]
    inbox = mate.page("/inbox")
    assert "由农林科学研究院人事 韩梅转办" in row_html(inbox, task_id)
    assert "由农林科学研究院人事 韩梅转办" in mate.page(f"/tasks/{task_id}")
    done = mate.submit(f"/tasks/{task_id}", {"decision": "approve"})
    assert done.status_code == 302
    db.session.rollback()
    task = db.session.get(HumanTask, task_id)
    assert (task.state, task.completed_by_id) == ("completed", other.id)


def test_delegation_is_refused_outside_the_unit_and_role_and_for_personal_tasks(ctx, cases):
    task_id = cases["tasks"]["员级"]
    colleague("institute_hr2", "农林科学研究院人事 孙悦")
    colleague("institute_hr3", "农林科学研究院人事 周全")
    colleague("institute_clerk", "农林科学研究院办公室 钱文", role="applicant")
    hr = Browser(ctx, "institute_hr")

    def delegate(browser: Browser, to: str, task: int = task_id):
        return browser.submit(f"/tasks/{task}/delegate", {"to": to}, token_from="/inbox")

    for to in ("liandu_co_hr", "institute_clerk", "institute_hr", "nobody"):  # other unit, no role, self, unknown
        response = delegate(hr, to)
        assert response.status_code == 422, to
    assert "只能转办给本机构中负责该任务的同事" in delegate(hr, "liandu_co_hr").get_data(as_text=True)
    assert Browser(ctx, "liandu_co_hr").submit(f"/tasks/{task_id}/delegate", {"to": "liandu_co_hr"},
                                               token_from="/inbox").status_code == 403
    no_token = hr.client.post(f"/tasks/{task_id}/delegate", data={"to": "institute_hr2"})
    assert no_token.status_code == 400

    # A task claimed by a colleague cannot be handed on by a third person.
    assert Browser(ctx, "institute_hr2").submit(f"/tasks/{task_id}/claim", token_from="/inbox").status_code == 302
    assert delegate(Browser(ctx, "institute_hr3"), "institute_hr3").status_code == 409

    # The applicant's own task (修改申请 after a return) is personal: it cannot be delegated.
    other_id = cases["tasks"]["中级"]
    returned = hr.submit(f"/tasks/{other_id}", {"decision": "return", "opinion": "请补充劳动合同"})
    assert returned.status_code == 302
    personal = task_of(cases["instances"]["中级"])
    assert personal.name == "修改申请" and personal.assignee_id is not None
    grad = Browser(ctx, "grad_city")
    assert 'id="delegate-form"' not in grad.page(f"/tasks/{personal.id}")
    refused = delegate(grad, "institute_hr", personal.id)
    assert refused.status_code == 422 and "个人任务" in refused.get_data(as_text=True)

    db.session.rollback()
    assert db.session.scalar(select(Event.id).where(Event.type == "task_delegated")) is None
    assert db.session.get(HumanTask, task_id).delegated_by_id is None


def test_delegation_through_the_api(ctx, cases):
    task_id = cases["tasks"]["助理级"]
    colleague("institute_hr2", "农林科学研究院人事 孙悦")
    api = Api(ctx.test_client(), "institute_hr")
    missing = api.post(f"/api/v1/tasks/{task_id}/delegate", json={})
    assert missing.status_code == 422 and missing.get_json()["error"]["fields"] == {"to": ["应为用户名"]}
    stranger = Api(ctx.test_client(), "school_hr").post(f"/api/v1/tasks/{task_id}/delegate", json={})
    assert stranger.status_code in (403, 404)  # who may act is checked before what the body lacks
    response = api.post(f"/api/v1/tasks/{task_id}/delegate", json={"to": "institute_hr2"})
    assert response.status_code == 200 and response.get_json()["assignee"] == "institute_hr2"
    # Now the colleague's: the one who handed it on may not hand it on again.
    assert api.post(f"/api/v1/tasks/{task_id}/delegate", json={}).status_code == 409
    mate = Api(ctx.test_client(), "institute_hr2")
    assert mate.complete(task_id, {"decision": "approve"}).status_code == 200


def test_a_long_inbox_is_paged_and_the_pages_keep_the_filters(ctx, cases, monkeypatch):
    from app.services import inbox_query

    monkeypatch.setattr(inbox_query, "PAGE_SIZE", 2)
    t = cases["tasks"]
    set_clock(cases["admin"], "2022-07-11T10:00:00+08:00")
    hr = Browser(ctx, "institute_hr")
    first = hr.page("/inbox?sort=due")
    assert rows(first) == [t["员级"], t["助理级"]]
    pager = first.split('id="group-pager"', 1)[1].split("</nav>", 1)[0]
    assert "共 3 项，第 1 / 2 页" in pager and "上一页" not in pager
    assert 'href="/inbox?sort=due&amp;page=2"' in pager
    second = hr.page("/inbox?sort=due&page=2")
    assert rows(second) == [t["中级"]]
    assert 'href="/inbox?sort=due"' in second.split('id="group-pager"', 1)[1].split("</nav>", 1)[0]
    # Past the end: the last page; not a number: the first (never an error).
    assert rows(hr.page("/inbox?page=9")) == [t["中级"]]
    assert rows(hr.page("/inbox?page=abc")) == [t["员级"], t["助理级"]]
    # A filter narrows what is paged: one task, no pager.
    one = hr.page("/inbox?q=" + "中级")
    assert len(rows(one)) <= 1 and 'id="group-pager"' not in one
